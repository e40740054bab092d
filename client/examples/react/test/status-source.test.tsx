// @vitest-environment happy-dom
// One status source (client/ts/status.ts, issue 19): the provider's indicator and the Zustand
// slice read one subscription to the store's status, with one state, and a snapshot the store
// refuses (its synchronous `autosave()` throws) shows as `error`, with the store's reason, in both,
// instead of landing in a field nothing reads.
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { AutoSaveIndicator, RecoveryProvider } from '@chatterbox/recovery-client/react';
import { createRecoverySlice, recovery, type RecoverySlice } from '@chatterbox/recovery-client/zustand';
import { pagePerTest } from './dom';
import { FakeStore } from './fake-store';

const page = pagePerTest();

interface Editor {
  id: string;
  text: string;
  setText(text: string): void;
}
type State = Editor & RecoverySlice<null>;

/** A store whose `autosave()` refuses every snapshot after `refuse` is set, as a closed store does. */
class RefusingStore extends FakeStore {
  refuse = false;
  override autosave(input: unknown): void {
    if (this.refuse) throw new Error('the store is closed');
    super.autosave(input);
  }
}

/** The slice over `fake`, hydrated, and the provider's indicator over the same store. */
async function both(fake: FakeStore) {
  const useEditor = create<State>()(
    recovery(
      (set, get, api) => ({
        id: 's1',
        text: '',
        setText: (text) => set({ text }),
        ...createRecoverySlice<State, null>()(set, get, api),
      }),
      { store: fake.asStore, sessionId: (s) => s.id, select: (s) => ({ text: s.text, params: null }), merge: (s) => ({ id: s.id, text: s.text }) },
    ),
  );
  await new Promise<void>((resolve) =>
    useEditor.recovery.hasHydrated() ? resolve() : useEditor.recovery.onFinishHydration(() => resolve()),
  );
  await page.render(<RecoveryProvider store={fake.asStore} settleMs={0}><AutoSaveIndicator /></RecoveryProvider>);
  const el = () => page.container.querySelector('[data-testid="autosave-indicator"]');
  return {
    useEditor,
    slice: () => useEditor.getState().recovery,
    indicator: () => [el()?.getAttribute('data-state'), el()?.textContent],
  };
}

describe('one status source for /react and /zustand', () => {
  it('follows the store once for the provider and the slice, and lets it go when both stop', async () => {
    const fake = new FakeStore();
    const { slice, indicator } = await both(fake);
    expect(fake.listeners.size).toBe(1);
    await act(async () => fake.emit({ status: 'saved', sessionIds: ['s1'] }));
    await act(async () => fake.emit({ status: 'copy-pending', sessionIds: ['s1'] }));
    expect(slice().status).toBe('copy-pending');
    expect(indicator()).toEqual(['copy-pending', 'Saved on this device · backing up…']);
    await act(async () => page.root.render(<div />));
    expect(fake.listeners.size).toBe(1); // the slice still follows it
    slice().stopListening();
    expect(fake.listeners.size).toBe(0);
  });

  it('shows a snapshot autosave() refused as an error with its reason, in the slice and the indicator', async () => {
    const fake = new RefusingStore();
    const { useEditor, slice, indicator } = await both(fake);
    useEditor.getState().setText('first words');
    expect(fake.called('autosave')).toHaveLength(1);
    await act(async () => fake.emit({ status: 'saved', sessionIds: ['s1'] }));
    expect(indicator()[0]).toBe('saved');
    fake.refuse = true;
    await act(async () => useEditor.getState().setText('lost words'));
    expect(slice()).toMatchObject({ status: 'error', message: 'the store is closed' });
    expect(indicator()).toEqual(['error', 'Not saved: the store is closed']);
    // The middleware's own error stays the opening's (none): the refusal is the status.
    expect(useEditor.recovery.getError()).toBeNull();
    // The store's next word is heard as usual.
    fake.refuse = false;
    await act(async () => useEditor.getState().setText('kept words'));
    await act(async () => fake.emit({ status: 'saved', sessionIds: ['s1'] }));
    expect(slice().status).toBe('saved');
    expect(indicator()[0]).toBe('saved');
  });
});
