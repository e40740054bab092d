// @vitest-environment happy-dom
// The React bindings in a DOM emulation, with the recording stand-in store: StrictMode's double
// mount, the shared store's closing, stable hook results, and the components' roles and
// keyboard behaviour. (The IndexedDB side is proven in real browsers.)
import { act, Profiler, useEffect, useState } from 'react';
import { describe, expect, it } from 'vitest';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  RecoveryProvider,
  openSharedRecoveryStore,
  useRecovery,
  useSaveStatus,
  type RecoverableSession,
} from '@chatterbox/recovery-client/react';
import type { RecoveryStore } from '@chatterbox/recovery-client';
import { pagePerTest } from './dom';
import { FakeStore } from './fake-store';

const page = pagePerTest();
const render = page.render;
const q = (testid: string) => page.container.querySelector(`[data-testid="${testid}"]`);

class ClosingStore extends FakeStore {
  closed = 0;
  async close(): Promise<void> {
    this.closed += 1;
  }
}

/** Puts a store in the page-wide registry, as openSharedRecoveryStore would after opening it. */
function share(dbName: string, store: FakeStore): Promise<RecoveryStore> {
  const registry = ((globalThis as Record<symbol, unknown>)[Symbol.for('@chatterbox/recovery-client/react/stores')] ??= new Map()) as Map<string, object>;
  const promise = Promise.resolve(store.asStore);
  registry.set(dbName, { promise, users: 0, closeTimer: null });
  return promise;
}

describe('RecoveryProvider', () => {
  it('under StrictMode follows the store once, and stops following on unmount', async () => {
    const fake = new FakeStore();
    await render(<RecoveryProvider store={fake.asStore}><AutoSaveIndicator /></RecoveryProvider>);
    expect(fake.listeners.size).toBe(1);
    await act(async () => page.root.render(<div />));
    expect(fake.listeners.size).toBe(0);
  });

  it('a shared store survives the StrictMode remount and is closed once when the last provider unmounts', async () => {
    const fake = new ClosingStore();
    const shared = share('strict-db', fake);
    expect(openSharedRecoveryStore({ dbName: 'strict-db' })).toBe(shared); // the same promise, as after a hot update
    await render(
      <>
        <RecoveryProvider store={shared}><span /></RecoveryProvider>
        <RecoveryProvider options={{ dbName: 'strict-db' }}><span /></RecoveryProvider>
      </>,
    );
    await act(async () => new Promise((r) => setTimeout(r, 10)));
    expect(fake.closed).toBe(0);
    await act(async () => page.root.render(<RecoveryProvider store={shared}><span /></RecoveryProvider>));
    await act(async () => new Promise((r) => setTimeout(r, 10)));
    expect(fake.closed).toBe(0); // one provider still uses it
    await act(async () => page.root.render(<div />));
    await act(async () => new Promise((r) => setTimeout(r, 10)));
    expect(fake.closed).toBe(1);
  });

  it('useRecovery() and useSaveStatus() keep their references until something changes', async () => {
    const fake = new FakeStore();
    const seen: { recovery: object[]; status: object[] } = { recovery: [], status: [] };
    let rerender: () => void = () => {};
    function Probe() {
      const [, setN] = useState(0);
      rerender = () => setN((n) => n + 1);
      seen.recovery.push(useRecovery());
      seen.status.push(useSaveStatus());
      return null;
    }
    await render(<RecoveryProvider store={fake.asStore} settleMs={0}><Probe /></RecoveryProvider>);
    const ready = seen.recovery.at(-1);
    const status = seen.status.at(-1);
    expect(ready).toMatchObject({ ready: true, store: fake });
    await act(async () => rerender());
    expect(seen.recovery.at(-1)).toBe(ready);
    expect(seen.status.at(-1)).toBe(status);
    await act(async () => fake.emit({ status: 'saving', sessionIds: ['a'] }));
    expect(seen.status.at(-1)).toMatchObject({ status: 'saving' });
    expect(seen.status.at(-1)).not.toBe(status);
    const saving = seen.status.at(-1);
    await act(async () => fake.emit({ status: 'conflict', sessionIds: ['a'], message: 'both kept' }));
    expect(seen.status.at(-1)).toMatchObject({ status: 'saving', event: { status: 'conflict' } });
    expect(seen.status.at(-1)).not.toBe(saving);
  });

  it('hooks outside a provider say so', async () => {
    function Lost() {
      useSaveStatus();
      return null;
    }
    const errors: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      errors.push(e.error);
      e.preventDefault();
    };
    window.addEventListener('error', onError);
    const quiet = console.error;
    console.error = () => {};
    try {
      await expect(render(<Lost />)).rejects.toThrow(/inside <RecoveryProvider>/);
    } finally {
      console.error = quiet;
      window.removeEventListener('error', onError);
    }
  });
});

describe('components', () => {
  it('AutoSaveIndicator is a polite status region whose data-state follows the store', async () => {
    const fake = new FakeStore();
    await render(<RecoveryProvider store={fake.asStore} settleMs={0}><AutoSaveIndicator /></RecoveryProvider>);
    const el = q('autosave-indicator');
    expect(el?.getAttribute('role')).toBe('status');
    expect(el?.getAttribute('aria-live')).toBe('polite');
    // Nothing handed to the store yet: nothing to call saved.
    expect(el?.getAttribute('data-state')).toBe('idle');
    expect(el?.textContent).toBe('Nothing to save yet');
    await act(async () => fake.emit({ status: 'pending', sessionIds: ['a'] }));
    expect(el?.getAttribute('data-state')).toBe('pending');
    expect(el?.textContent).toBe('Unsaved changes…');
    await act(async () => fake.emit({ status: 'quota', message: 'disk full' }));
    expect(el?.textContent).toBe('Storage full: disk full');
  });

  it('AutoSaveIndicator shows pending at once, and saving or saved only once they hold: one render per burst', async () => {
    const fake = new FakeStore();
    let renders = 0;
    await render(
      <RecoveryProvider store={fake.asStore} settleMs={30}>
        <Profiler id="indicator" onRender={() => void (renders += 1)}><AutoSaveIndicator /></Profiler>
      </RecoveryProvider>,
    );
    const el = () => q('autosave-indicator')?.getAttribute('data-state');
    const start = renders;
    const statesSeen: (string | null | undefined)[] = [];
    // A burst of typing: each keystroke goes pending → saving → saved at once.
    for (let i = 0; i < 5; i++) {
      await act(async () => fake.emit({ status: 'pending', sessionIds: ['a'] }));
      statesSeen.push(el());
      await act(async () => fake.emit({ status: 'saving', sessionIds: ['a'] }));
      statesSeen.push(el());
      await act(async () => fake.emit({ status: 'saved', sessionIds: ['a'] }));
      statesSeen.push(el());
    }
    expect(new Set(statesSeen)).toEqual(new Set(['pending'])); // never "saved" early, no flicker
    await act(async () => new Promise((r) => setTimeout(r, 60)));
    expect(el()).toBe('saved');
    // Two commits for the whole burst: pending, then saved.
    expect(renders - start).toBe(2);
    await act(async () => fake.emit({ status: 'quota', message: 'full' }));
    expect(el()).toBe('quota'); // at once
  });

  it('AutoSaveIndicator says so while earlier work waits to be restored, and claims no more than it knows', async () => {
    const fake = new FakeStore();
    const show = (waiting: number) =>
      render(<RecoveryProvider store={fake.asStore} settleMs={0}><AutoSaveIndicator waiting={waiting} /></RecoveryProvider>);
    const el = () => q('autosave-indicator');
    await show(2);
    expect(el()?.getAttribute('data-state')).toBe('waiting');
    expect(el()?.textContent).toBe('Earlier work waiting to be restored');
    expect(el()?.getAttribute('data-waiting')).toBe('true');
    await act(async () => fake.emit({ status: 'pending', sessionIds: ['a'] }));
    expect(el()?.getAttribute('data-state')).toBe('pending');
    expect(el()?.hasAttribute('data-waiting')).toBe(false);
    await act(async () => fake.emit({ status: 'saved', sessionIds: ['a'] }));
    expect(el()?.getAttribute('data-state')).toBe('saved');
    expect(el()?.getAttribute('data-waiting')).toBe('true');
    expect(el()?.textContent).toBe('Saved on this device; earlier work waiting to be restored');
    await show(0); // the last one restored or dismissed
    expect(el()?.getAttribute('data-state')).toBe('saved');
    expect(el()?.hasAttribute('data-waiting')).toBe(false);
    expect(el()?.textContent).toBe('Saved on this device');
    // Without a provider, and with `status` given: idle means idle.
    await render(<AutoSaveIndicator />);
    expect(el()?.getAttribute('data-state')).toBe('idle');
    await render(<AutoSaveIndicator status="idle" waiting label={(state, _message, waiting) => `${state} ${waiting}`} />);
    expect(el()?.textContent).toBe('waiting true');
  });

  const sessions: RecoverableSession[] = [
    { id: 'a', text: 'First draft', chunkCount: 2, serverToken: 'tok', audioEvicted: false },
    { id: 'b', text: '', chunkCount: 0, serverToken: null, audioEvicted: false },
  ];

  it('RecoveryBanner is an alert while there is something to recover, and nothing otherwise', async () => {
    let opened = 0;
    await render(<RecoveryBanner sessions={sessions} onOpen={() => opened++} />);
    expect(q('recovery-banner')?.getAttribute('role')).toBe('alert');
    expect(q('recovery-banner')?.textContent).toContain('2 sessions ended without being closed');
    expect(q('recovery-banner')?.textContent).toContain('2 audio parts');
    await act(async () => (q('recovery-open') as HTMLButtonElement).click());
    expect(opened).toBe(1);
    await render(<RecoveryBanner sessions={[]} onOpen={() => opened++} />);
    expect(q('recovery-banner')).toBeNull();
  });

  it('RecoveryBanner while checking says it is looking, busy and without its button, until sessions come', async () => {
    await render(<RecoveryBanner sessions={[]} checking onOpen={() => {}} />);
    expect(q('recovery-banner')?.getAttribute('data-state')).toBe('checking');
    expect(q('recovery-banner')?.getAttribute('aria-busy')).toBe('true');
    expect(q('recovery-banner')?.textContent).toContain('Looking for unsaved work');
    expect((q('recovery-open') as HTMLButtonElement).hidden).toBe(true);
    await render(<RecoveryBanner sessions={sessions} checking onOpen={() => {}} />);
    expect(q('recovery-banner')?.getAttribute('data-state')).toBe('found');
    expect((q('recovery-open') as HTMLButtonElement).hidden).toBe(false);
  });

  it('RecoveryModal opens as a labelled modal dialog, Escape asks to close, and focus returns', async () => {
    const done: string[] = [];
    function Harness() {
      const [open, setOpen] = useState(false);
      const [left, setLeft] = useState(sessions);
      useEffect(() => {
        if (!left.length) setOpen(false);
      }, [left]);
      const take = (what: string) => async (id: string) => {
        done.push(`${what} ${id}`);
        setLeft((l) => l.filter((s) => s.id !== id));
      };
      return (
        <>
          <button type="button" data-testid="opener" onClick={() => setOpen(true)}>open</button>
          <RecoveryModal open={open} onClose={() => setOpen(false)} sessions={left} onRestore={take('restore')} onDismiss={take('dismiss')} />
        </>
      );
    }
    await render(<Harness />);
    const opener = q('opener') as HTMLButtonElement;
    const dialog = q('recovery-modal') as HTMLDialogElement;
    expect(dialog.tagName).toBe('DIALOG');
    expect(dialog.open).toBe(false);
    opener.focus();
    await act(async () => opener.click());
    expect(dialog.open).toBe(true);
    const title = document.getElementById(dialog.getAttribute('aria-labelledby') ?? '');
    expect(title?.textContent).toBe('Restore your work?');
    expect(document.getElementById(dialog.getAttribute('aria-describedby') ?? '')?.textContent).toContain('ended without being closed');
    const items = page.container.querySelectorAll('[data-testid="recovery-item"]');
    expect([...items].map((i) => [i.getAttribute('data-session-id'), i.getAttribute('data-server-copy')])).toEqual([['a', 'true'], ['b', 'false']]);

    // Focus inside (a browser's showModal() moves it there), then Escape: the dialog's cancel
    // event, which the component turns into onClose.
    (q('recovery-close') as HTMLButtonElement).focus();
    expect(document.activeElement).toBe(q('recovery-close'));
    await act(async () => dialog.dispatchEvent(new Event('cancel', { cancelable: true })));
    expect(dialog.open).toBe(false);
    expect(document.activeElement).toBe(opener);

    await act(async () => opener.click());
    await act(async () => (items[0]?.querySelector('[data-testid="recovery-restore"]') as HTMLButtonElement).click());
    await act(async () => (page.container.querySelector('[data-testid="recovery-dismiss"]') as HTMLButtonElement).click());
    expect(done).toEqual(['restore a', 'dismiss b']);
    expect(dialog.open).toBe(false);
  });

  it('RecoveryModal closes by itself, and says so, once nothing is left in it', async () => {
    let closes = 0;
    let setLeft: (next: RecoverableSession[]) => void = () => {};
    function Harness() {
      const [open, setOpen] = useState(true);
      const [left, set] = useState(sessions);
      setLeft = set;
      const take = async (id: string) => set((l) => l.filter((s) => s.id !== id));
      // No effect of its own closing it: the component does.
      return (
        <RecoveryModal
          open={open}
          onClose={() => {
            closes += 1;
            setOpen(false);
          }}
          sessions={left}
          onRestore={take}
          onDismiss={take}
        />
      );
    }
    await render(<Harness />);
    const dialog = q('recovery-modal') as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    await act(async () => (page.container.querySelector('[data-testid="recovery-restore"]') as HTMLButtonElement).click());
    expect(dialog.open).toBe(true); // one left
    expect(closes).toBe(0);
    await act(async () => (page.container.querySelector('[data-testid="recovery-dismiss"]') as HTMLButtonElement).click());
    expect(dialog.open).toBe(false);
    expect(closes).toBe(1);
    // Sessions coming back later do not reopen it: the app's `open` was set to false.
    await act(async () => setLeft(sessions));
    expect(dialog.open).toBe(false);
  });
});
