import { useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  useRecovery,
  useSaveState,
  type IndicatorDisplayState,
} from '@chatterbox/recovery-client/react';
import type { OpenedRecoveryStore } from '@chatterbox/recovery-client';
import type { RecoverySummary } from '@chatterbox/recovery-client/zustand';
import { dismiss, restore } from './recovery';
import { statusLine } from './ui';
import { announce, emit } from './announce';
import { serverCopyAtStart } from './copy';
import { serverCopyOn } from './copySwitch';
import { Editor } from './Editor';
import { Measured } from './Measured';
import { ServerCopy } from './ServerCopy';
import { useStudio, type Params } from './studio';
import { Takes, voiceName } from './Takes';

function labelOf(state: IndicatorDisplayState, message: string | null, waiting: boolean): string {
  switch (state) {
    case 'idle':
      return 'Nothing to save yet'; // nothing typed: nothing saved either
    case 'waiting':
      return 'Earlier work waiting to be restored';
    case 'pending':
      return 'Unsaved changes…';
    case 'saving':
      return 'Saving…';
    case 'saved':
      return waiting ? 'Saved on this device; earlier work waiting to be restored' : 'Saved on this device';
    case 'error':
      return `Not saved: ${message ?? 'storage error'}`;
    case 'quota':
      return `Storage full — ${message ?? 'audio is not being saved'}`;
    // The server copy's, shown only while everything is saved on this device (the package's rule).
    case 'copy-pending':
      return 'Saved on this device · backing up…';
    case 'backed-up':
      return 'Backed up to the server';
    case 'offline':
      return 'Offline: saved on this device, will back up when online';
    case 'copy-error':
      // The store's message says why, when it retries and what to do.
      return message?.startsWith('Server copy failed')
        ? message
        : `Server copy failed: ${message ?? 'it is retried; your work is saved on this device'}`;
  }
}

function Indicator() {
  // Primitives: idle until the first edit, pending at once, saving and saved once they hold (the
  // provider's settleMs), so typing renders this once per burst and never shows "saved" early.
  const status = useSaveState();
  // The slice's message goes with the same state: both follow the package's one rule (status.js).
  const message = useStudio((s) => s.recovery.message);
  const storageFull = useStudio((s) => s.storageFull);
  // Crashed sessions on offer: the indicator does not call the page saved without saying so.
  const waiting = useStudio((s) => s.recovery.crashedSessions.length);
  const state = storageFull ? 'quota' : status;
  const shown: IndicatorDisplayState = state === 'idle' && waiting > 0 ? 'waiting' : state;
  const label = labelOf(shown, storageFull ?? message, waiting > 0);
  useEffect(() => emit('indicator', { state: shown, label }), [shown, label]);
  return <AutoSaveIndicator status={state} waiting={waiting} label={() => label} />;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function meta(s: RecoverySummary<Params>): ReactNode {
  const parts = s.params?.parts;
  return [
    age(s.updatedAt),
    voiceName(s.voiceId),
    `${s.chunkCount}${parts ? ` of ${parts}` : ''} audio part${(parts ?? s.chunkCount) === 1 ? '' : 's'}` +
      (s.audioEvicted ? ' (audio removed when storage was full)' : ''),
    s.serverToken ? 'server copy kept' : 'no server copy',
  ].map((bit) => <span key={bit}>{bit}</span>);
}

/**
 * When the page script's hint (index.html) marked <html>, in ms after navigation start: before this bundle runs
 * from the localStorage index, or a few ms later from IndexedDB when a kill took the index's last write.
 */
const hintedAt = () => document.documentElement.dataset.recoveryHintAt;
function onHinted(changed: () => void) {
  const observer = new MutationObserver(changed);
  observer.observe(document.documentElement, { attributeFilter: ['data-recovery-hint-at'] });
  return () => observer.disconnect();
}

function Recovery() {
  const sessions = useStudio((s) => s.recovery.crashedSessions);
  const hydrated = useStudio((s) => s.recovery.hydrated);
  const failed = useStudio((s) => s.recovery.error !== null && !s.recovery.hydrated);
  const [open, setOpen] = useState(false);
  const hinted = useSyncExternalStore(onHinted, hintedAt);
  const checking = hinted !== undefined && !hydrated && !failed;
  const shown = sessions.length > 0;
  // When the banner appeared (the hint's time if it was in the first paint), for the
  // end-to-end tests' first-paint check.
  const shownAt = useMemo(() => (shown || checking ? (hinted ?? String(performance.now())) : undefined), [shown, checking, hinted]);
  useEffect(() => {
    if (!shown) setOpen(false);
  }, [shown]);
  return (
    <>
      <RecoveryBanner
        className="banner"
        sessions={sessions}
        checking={checking}
        onOpen={() => setOpen(true)}
        data-shown-at={shownAt}
      />
      <RecoveryModal
        open={open && shown}
        onClose={() => setOpen(false)}
        sessions={sessions}
        onRestore={restore}
        onDismiss={dismiss}
        meta={meta}
      />
    </>
  );
}

/** Once the recovery check has run: the page is ready (the tests wait for this). */
function useReady() {
  const { store } = useRecovery();
  const hydrated = useStudio((s) => s.recovery.hydrated);
  const failed = useStudio((s) => s.recovery.error !== null && !s.recovery.hydrated);
  const announced = useRef(false);
  useEffect(() => (store ? announce(store) : undefined), [store]);
  useLayoutEffect(() => {
    if (announced.current || !(hydrated || failed)) return;
    announced.current = true;
    const root = document.documentElement;
    root.classList.remove('recovery-hinted');
    const crashed = useStudio.getState().recovery.crashedSessions.map((s) => s.id);
    const opened = useStudio.recovery.getStore() as OpenedRecoveryStore | null;
    const dataLoss = opened?.dataLoss ?? null;
    const lost = dataLoss
      ? // Said plainly: what was saved here before the crash is gone, and where to look instead.
        `This browser deleted the work it had saved here, finding its storage damaged after the ` +
        `crash (${dataLoss}). A take backed up to the server can still be recovered by token.`
      : '';
    if (lost) statusLine.set(lost);
    const serverCopy = serverCopyOn();
    const start = opened ? serverCopyAtStart({ dataLoss, serverCopy }) : Promise.resolve(false);
    void start.then((offered) => {
      if (offered) {
        statusLine.set(`${lost ? `${lost} ` : ''}The server keeps copies of your sessions: restore them under Server copy.`);
      }
      root.dataset.ready = 'true';
      emit('ready', { crashed, tabId: opened?.tabId ?? null, dataLoss, serverCopy });
    });
  }, [hydrated, failed]);
}

export function App() {
  useReady();
  return (
    <>
      <header className="top">
        <h1>Chatterbox <span>TTS</span></h1>
        <Measured id="indicator"><Indicator /></Measured>
      </header>
      <Measured id="recovery"><Recovery /></Measured>
      <main>
        <Measured id="editor"><Editor /></Measured>
        <Measured id="takes"><Takes /></Measured>
        <Measured id="server"><ServerCopy /></Measured>
      </main>
    </>
  );
}

