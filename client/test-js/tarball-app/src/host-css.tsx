// The package's three components in a host page styled by Tailwind v4 (preflight) with a dark
// theme (host-css.html, src/host.css): host-css.check.mjs renders it in Chromium and measures
// contrast, the dialog's position and the buttons. No store: the components take their state as
// props here, as an app's own state would give it.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  type IndicatorState,
  type RecoverableSession,
} from '@chatterbox/recovery-client/react';
import '@chatterbox/recovery-client/react.css';

declare global {
  interface Window {
    hostCss: { closed: number; done: string[] };
  }
}
window.hostCss = { closed: 0, done: [] };
document.documentElement.dataset.theme = new URLSearchParams(location.search).get('theme') ?? 'media';

const SESSIONS: RecoverableSession[] = [
  { id: 'a', text: 'Chapter one. The lighthouse keeper counted the ships. Seven, she wrote, then crossed it out.', chunkCount: 3, serverToken: 'tok', audioEvicted: false },
  { id: 'b', text: 'A second take, cut short when the tab crashed.', chunkCount: 0, serverToken: null, audioEvicted: true },
];

const INDICATORS: { status: IndicatorState; waiting?: boolean; message?: string }[] = [
  { status: 'idle' },
  { status: 'idle', waiting: true },
  { status: 'pending' },
  { status: 'saving' },
  { status: 'saved' },
  { status: 'saved', waiting: true },
  { status: 'error', message: 'the disk is read-only' },
  { status: 'quota', message: 'audio is not being saved' },
];

function App() {
  const [sessions, setSessions] = useState(SESSIONS);
  const [open, setOpen] = useState(false);
  const take = (what: string) => async (id: string) => {
    await new Promise((r) => setTimeout(r, 20));
    window.hostCss.done.push(`${what} ${id}`);
    setSessions((left) => left.filter((s) => s.id !== id));
  };
  return (
    <>
      <header className="flex items-center justify-between gap-4 border-b border-gray-200 px-6 py-3 dark:border-gray-800">
        <h1 className="text-lg font-semibold">Host app</h1>
        <button type="button" data-testid="host-action" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white">
          Host action
        </button>
      </header>
      <div className="flex flex-wrap gap-2 px-6 py-3" data-testid="indicators">
        {INDICATORS.map(({ status, waiting, message }) => (
          <AutoSaveIndicator key={`${status}${waiting ? '-waiting' : ''}`} status={status} waiting={waiting} message={message ?? null} />
        ))}
      </div>
      <div className="px-6">
        <RecoveryBanner sessions={sessions} onOpen={() => setOpen(true)} />
      </div>
      <main className="grid gap-3 p-6">
        <label className="grid gap-1 text-sm">
          Text
          <textarea data-testid="host-text" rows={4} className="rounded-md border border-gray-300 bg-white p-2 text-gray-900 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100" />
        </label>
      </main>
      <RecoveryModal
        open={open}
        onClose={() => {
          window.hostCss.closed += 1;
          setOpen(false);
        }}
        sessions={sessions}
        onRestore={take('restore')}
        onDismiss={take('dismiss')}
      />
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
