// @vitest-environment happy-dom
// The server copy's states (issue 17) in the React indicator and the Zustand slice, which follow
// one rule (client/js/status.js): the two copies told apart, and "Backed up to the server" never
// claimed for an edit the server has not acknowledged.
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { AutoSaveIndicator, RecoveryProvider } from '@chatterbox/recovery-client/react';
import { createRecoverySlice, recovery, type RecoverySlice } from '@chatterbox/recovery-client/zustand';
import { pagePerTest } from './dom';
import { FakeStore } from './fake-store';

const page = pagePerTest();

async function indicator(fake: FakeStore, settleMs = 0) {
  await page.render(<RecoveryProvider store={fake.asStore} settleMs={settleMs}><AutoSaveIndicator /></RecoveryProvider>);
  const el = () => page.container.querySelector('[data-testid="autosave-indicator"]');
  return {
    state: () => el()?.getAttribute('data-state'),
    text: () => el()?.textContent,
    emit: (status: string, message: string | null = null) => act(async () => fake.emit({ status, sessionIds: ['a'], message })),
  };
}

describe('AutoSaveIndicator with the server copy', () => {
  it('tells the copy on this device from the copy on the server, each with its own data-state and words', async () => {
    const ui = await indicator(new FakeStore());
    await ui.emit('pending');
    await ui.emit('saving');
    await ui.emit('saved');
    expect([ui.state(), ui.text()]).toEqual(['saved', 'Saved on this device']);
    await ui.emit('copy-pending');
    expect([ui.state(), ui.text()]).toEqual(['copy-pending', 'Saved on this device · backing up…']);
    await ui.emit('backed-up');
    expect([ui.state(), ui.text()]).toEqual(['backed-up', 'Backed up to the server']);
  });

  it('drops "backed up" at the next edit, and after its local save says only "saved on this device"', async () => {
    const ui = await indicator(new FakeStore());
    await ui.emit('saved');
    await ui.emit('backed-up');
    expect(ui.state()).toBe('backed-up');
    await ui.emit('pending');
    expect(ui.state()).toBe('pending');
    await ui.emit('saving');
    expect(ui.state()).toBe('saving');
    await ui.emit('saved');
    // The server acknowledged the edit before this one: this one is on this device only.
    expect([ui.state(), ui.text()]).toEqual(['saved', 'Saved on this device']);
  });

  it('does not claim "backed up" from an acknowledgement that comes while an edit is unsaved', async () => {
    const ui = await indicator(new FakeStore());
    await ui.emit('pending');
    await ui.emit('backed-up');
    expect(ui.state()).toBe('pending');
    await ui.emit('saved');
    expect(ui.state()).toBe('saved');
  });

  it('leaves "backed up" at once when a part is being saved, however long saving states settle', async () => {
    const fast = await indicator(new FakeStore(), 20);
    await fast.emit('saved');
    await fast.emit('backed-up');
    expect(fast.state()).toBe('idle'); // both settle first
    await act(async () => new Promise((r) => setTimeout(r, 60)));
    expect(fast.state()).toBe('backed-up');
    await fast.emit('saving'); // an audio part, with no `pending` before it
    expect(fast.state()).toBe('saving');
  });

  it('stays "offline" across local saves until the copy moves again, and says what to do when it fails', async () => {
    const ui = await indicator(new FakeStore());
    await ui.emit('saved');
    await ui.emit('offline', 'Offline: your work is saved on this device and will be backed up when the browser is back online');
    expect([ui.state(), ui.text()]).toEqual(['offline', 'Offline: saved on this device, will back up when online']);
    await ui.emit('pending');
    expect(ui.state()).toBe('pending');
    await ui.emit('saved');
    expect(ui.state()).toBe('offline'); // still true: nothing went up since
    await ui.emit('copy-pending');
    expect(ui.state()).toBe('copy-pending');
    const failed = 'Server copy failed (HTTP 503): will retry in 30 s; your work is saved on this device';
    await ui.emit('copy-error', failed);
    expect([ui.state(), ui.text()]).toEqual(['copy-error', failed]);
    await ui.emit('copy-error', 'timed out');
    expect(ui.text()).toBe('Server copy failed: timed out');
  });
});

interface Editor {
  id: string;
  text: string;
}

describe('the Zustand slice with the server copy', () => {
  it('follows the same rule: "backed-up" only for the last local commit', async () => {
    const fake = new FakeStore();
    const useEditor = create<Editor & RecoverySlice<null>>()(
      recovery(
        (set, get, api) => ({ id: 's1', text: '', ...createRecoverySlice<Editor & RecoverySlice<null>, null>()(set, get, api) }),
        { store: fake.asStore, sessionId: (s) => s.id, select: (s) => ({ text: s.text, params: null }), merge: (s) => ({ id: s.id, text: s.text }) },
      ),
    );
    await new Promise<void>((resolve) =>
      useEditor.recovery.hasHydrated() ? resolve() : useEditor.recovery.onFinishHydration(() => resolve()),
    );
    const status = () => useEditor.getState().recovery.status;
    fake.emit({ status: 'saved', sessionIds: ['s1'] });
    fake.emit({ status: 'copy-pending', sessionIds: ['s1'] });
    expect(status()).toBe('copy-pending');
    fake.emit({ status: 'backed-up', sessionIds: ['s1'] });
    expect(status()).toBe('backed-up');
    fake.emit({ status: 'pending', sessionIds: ['s1'] });
    expect(status()).toBe('pending');
    fake.emit({ status: 'backed-up', sessionIds: ['s1'] }); // a late acknowledgement of the older copy
    expect(status()).toBe('pending');
    fake.emit({ status: 'saved', sessionIds: ['s1'] });
    expect(status()).toBe('saved');
    fake.emit({ status: 'copy-error', sessionIds: ['s1'], message: 'Server copy failed (HTTP 503): will retry in 2 s' });
    expect(useEditor.getState().recovery).toMatchObject({ status: 'copy-error', message: 'Server copy failed (HTTP 503): will retry in 2 s' });
  });
});
