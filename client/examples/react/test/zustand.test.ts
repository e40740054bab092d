// The Zustand middleware and slice, with real Zustand (`create`, `persist`, `createJSONStorage`)
// and a recording stand-in for the wasm store. Written GIVEN / WHEN / THEN.
import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import {
  createRecoverySlice,
  createRecoveryStorage,
  recovery,
  type RecoveredSession,
  type RecoverySlice,
} from '@chatterbox/recovery-client/zustand';
import { FakeStore, restored, summary } from './fake-store';

interface Params {
  seed: number;
  temperature: number;
}
interface Editor {
  id: string;
  text: string;
  voiceId: string;
  params: Params;
  /** Not part of the autosaved slice. */
  cursor: number;
  setText(text: string): void;
}
type State = Editor & RecoverySlice<Params>;

// A session may have no params (stored by another page, or audio stored before any text): the
// state's own are kept then, so the store never holds null where the app's type says Params.
const merge = (s: RecoveredSession<Params>, state: Editor) =>
  ({ id: s.id, text: s.text, voiceId: s.voiceId ?? 'default', params: s.params ?? state.params });

function editorStore(fake: FakeStore, source: unknown = fake.asStore, text = '') {
  return create<State>()(
    recovery(
      (set, get, api) => ({
        id: 's1',
        text,
        voiceId: 'default',
        params: { seed: 0, temperature: 0.8 },
        cursor: 0,
        setText: (text) => set({ text }),
        ...createRecoverySlice<State, Params>()(set, get, api),
      }),
      {
        store: source as Promise<never>,
        sessionId: (s) => s.id,
        select: (s) => ({ text: s.text, voiceId: s.voiceId, params: s.params }),
        merge,
      },
    ),
  );
}

const hydrated = (store: { recovery: { hasHydrated(): boolean; onFinishHydration(l: () => void): () => void } }) =>
  store.recovery.hasHydrated() ? Promise.resolve() : new Promise<void>((resolve) => store.recovery.onFinishHydration(resolve));

describe('recovery middleware', () => {
  it('hands each change of the selected slice to autosave(), and nothing else', async () => {
    // GIVEN a hydrated store
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    // WHEN the text changes three times and unrelated state changes twice
    useEditor.getState().setText('H');
    useEditor.getState().setText('He');
    useEditor.setState({ cursor: 2 });
    useEditor.getState().setText('Hey');
    useEditor.setState({ cursor: 3, text: 'Hey' });
    // THEN autosave saw the three texts, with voice and params, and no write was made per set()
    expect(fake.called('autosave').map(([input]) => input)).toEqual(
      ['H', 'He', 'Hey'].map((text) => ({ id: 's1', text, voiceId: 'default', params: { seed: 0, temperature: 0.8 } })),
    );
    expect(fake.called('save')).toEqual([]);
    expect(fake.called('setItem')).toEqual([]);
  });

  it('compares params shallowly: a new object with the same values is no change', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    useEditor.setState({ params: { seed: 0, temperature: 0.8 } });
    expect(fake.called('autosave')).toEqual([]);
    useEditor.setState({ params: { seed: 7, temperature: 0.8 } });
    expect(fake.called('autosave')).toHaveLength(1);
  });

  it('keeps changes made before the store opened and hands over the newest one when it does', async () => {
    // GIVEN a store whose recovery store is still opening
    const fake = new FakeStore();
    let open!: (store: unknown) => void;
    const opening = new Promise((resolve) => (open = resolve));
    const useEditor = editorStore(fake, opening);
    const events: string[] = [];
    useEditor.recovery.onFinishHydration(() => events.push('finished'));
    // WHEN the user types before it opens
    useEditor.getState().setText('typed early');
    useEditor.getState().setText('typed early, twice');
    expect(useEditor.recovery.hasHydrated()).toBe(false);
    expect(useEditor.getState().recovery.hydrated).toBe(false);
    // and the indicator does not claim they are saved
    expect(useEditor.recovery.hasUnsavedChanges()).toBe(true);
    expect(useEditor.getState().recovery.status).toBe('pending');
    open(fake.asStore);
    await hydrated(useEditor);
    // THEN hydration is observable and the newest snapshot is handed over once
    expect(events).toEqual(['finished']);
    expect(useEditor.getState().recovery.hydrated).toBe(true);
    expect(fake.called('autosave').map(([input]) => (input as { text: string }).text)).toEqual(['typed early, twice']);
    expect(useEditor.recovery.hasUnsavedChanges()).toBe(false);
  });

  it('hydrates on demand with skipHydration, and listeners unsubscribe', async () => {
    const fake = new FakeStore();
    const useEditor = create<Editor>()(
      recovery(
        (set) => ({ id: 's', text: '', voiceId: 'v', params: { seed: 1, temperature: 1 }, cursor: 0, setText: (text) => set({ text }) }),
        { store: () => fake.asStore, sessionId: (s) => s.id, select: (s) => s, merge, skipHydration: true, detect: false },
      ),
    );
    const seen: string[] = [];
    const off = useEditor.recovery.onHydrate(() => seen.push('start'));
    useEditor.recovery.onFinishHydration(() => seen.push('end'));
    await Promise.resolve();
    expect(seen).toEqual([]);
    await useEditor.recovery.rehydrate();
    off();
    await useEditor.recovery.rehydrate();
    expect(seen).toEqual(['start', 'end', 'end']);
    expect(fake.called('detect')).toEqual([]);
    expect(useEditor.recovery.getStore()).toBe(fake);
  });

  it('restore(id) merges the session into the state, and the merge is autosaved (claiming it)', async () => {
    const fake = new FakeStore();
    fake.sessions.set('old', restored('old', 'Recovered text', { seed: 42, temperature: 1.2 }));
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    const session = await useEditor.recovery.restore('old');
    expect(session?.text).toBe('Recovered text');
    expect(useEditor.getState()).toMatchObject({ id: 'old', text: 'Recovered text', voiceId: 'olivia', params: { seed: 42 } });
    expect(fake.called('autosave').at(-1)?.[0]).toMatchObject({ id: 'old', text: 'Recovered text' });
    expect(await useEditor.recovery.restore('missing')).toBeNull();
  });

  it('a failed open is reported, not thrown into set(), and rehydrate() can try again', async () => {
    const fake = new FakeStore();
    let attempts = 0;
    const useEditor = editorStore(fake, () => (++attempts === 1 ? Promise.reject(new Error('no IndexedDB')) : fake.asStore));
    await new Promise<void>((resolve) => useEditor.recovery.onFinishHydration(() => resolve()));
    expect(useEditor.recovery.hasHydrated()).toBe(false);
    expect(useEditor.getState().recovery).toMatchObject({ status: 'error', error: 'no IndexedDB', hydrated: false });
    useEditor.getState().setText('still works');
    await useEditor.recovery.rehydrate();
    expect(useEditor.recovery.hasHydrated()).toBe(true);
    expect(fake.called('autosave').map(([i]) => (i as { text: string }).text)).toEqual(['still works']);
  });
});

describe('recovery slice', () => {
  it('starts idle, not saved, until the first edit, and stays idle once open with nothing typed', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    expect(useEditor.getState().recovery.status).toBe('idle');
    await hydrated(useEditor);
    expect(useEditor.getState().recovery.status).toBe('idle');
    useEditor.getState().setText('first words');
    fake.emit({ status: 'pending', sessionIds: ['s1'] });
    expect(useEditor.getState().recovery.status).toBe('pending');
  });

  it('follows the store: the indicator states, not conflict news, and stops listening on request', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    const statuses: string[] = [];
    useEditor.subscribe((s, before) => s.recovery.status !== before.recovery.status && statuses.push(s.recovery.status));
    fake.emit({ status: 'pending', sessionIds: ['s1'] });
    fake.emit({ status: 'saving', sessionIds: ['s1'] });
    fake.emit({ status: 'conflict', sessionIds: ['s1'], message: 'kept both' });
    fake.emit({ status: 'saved', sessionIds: ['s1'] });
    fake.emit({ status: 'quota', message: 'disk full', evicted: ['x'] });
    expect(statuses).toEqual(['pending', 'saving', 'saved', 'quota']);
    expect(useEditor.getState().recovery.message).toBe('disk full');
    useEditor.getState().recovery.stopListening();
    fake.emit({ status: 'saved' });
    expect(useEditor.getState().recovery.status).toBe('quota');
    expect(fake.listeners.size).toBe(0);
  });

  it('lists crashed sessions; restore and dismiss take them off the list', async () => {
    const fake = new FakeStore();
    fake.crashed = [summary('a', 'First'), summary('b', 'Second')];
    fake.sessions.set('a', restored('a', 'First', { seed: 1, temperature: 1 }, 2));
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    expect(useEditor.getState().recovery.crashedSessions.map((s) => s.id)).toEqual(['a', 'b']);
    const session = await useEditor.getState().recovery.restore('a');
    expect(session?.chunks).toHaveLength(2);
    expect(useEditor.getState().text).toBe('First');
    await useEditor.getState().recovery.dismiss('b');
    expect(fake.called('dismiss')).toEqual([['b']]);
    expect(useEditor.getState().recovery.crashedSessions).toEqual([]);
    expect(useEditor.getState().recovery.busy).toBeNull();
  });

  it('backup() commits the latest edits first, then backs the session up with progress', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    useEditor.getState().setText('Back me up.');
    const seen: number[] = [];
    const result = await useEditor.getState().recovery.backup({ ttlSeconds: 60, onProgress: (p) => seen.push(p.loaded) });
    expect(result.token).toBe('tok-1');
    const order = fake.calls.map((c) => c.method).filter((m) => m === 'flush' || m === 'backup');
    expect(order).toEqual(['flush', 'backup']);
    expect(fake.called('backup')[0]?.[0]).toBe('s1');
    expect(fake.called('backup')[0]?.[1]).toMatchObject({ ttlSeconds: 60 });
    expect(seen).toEqual([2, 4]);
    expect(useEditor.getState().recovery).toMatchObject({
      progress: { phase: 'upload', loaded: 4, total: 4 },
      lastBackup: { id: 's1', token: 'tok-1' },
    });
  });

  it('recover(token) brings the whole session into the state; a failure is kept in error and rethrown', async () => {
    const fake = new FakeStore();
    fake.recoverResult = { audio: 'restored', session: restored('doc-id', 'From the server', { seed: 9, temperature: 2 }, 3), evicted: [] };
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    const result = await useEditor.getState().recovery.recover('tok-9');
    expect(result.session?.params?.seed).toBe(9);
    expect(fake.called('recover')).toEqual([[null, 'tok-9']]);
    expect(useEditor.getState()).toMatchObject({ id: 'doc-id', text: 'From the server', params: { seed: 9, temperature: 2 } });

    fake.recover = async () => {
      throw new Error('503 from the server');
    };
    await expect(useEditor.getState().recovery.recover('tok-10')).rejects.toThrow('503');
    expect(useEditor.getState().recovery).toMatchObject({ error: '503 from the server', busy: null });
  });

  it('createRecoverySlice() outside the middleware says so', () => {
    // A store without the middleware: its api has no `recovery`.
    const slice = createRecoverySlice<RecoverySlice<Params>, Params>() as unknown as (set: unknown, get: unknown, api: object) => unknown;
    expect(() => create()((set, get, api) => slice(set, get, api) as object)).toThrow(/inside the recovery\(\) middleware/);
  });
});

describe('with persist and createJSONStorage', () => {
  interface Prefs {
    theme: string;
    volume: number;
  }

  it('createRecoveryStorage is a StateStorage: persist writes through it and rehydrates from it', async () => {
    // GIVEN a persisted store on the recovery store's key-value table
    const fake = new FakeStore();
    const storage = createRecoveryStorage(Promise.resolve(fake.asStore));
    const options = { name: 'prefs', storage: createJSONStorage<Prefs>(() => storage) };
    const first = create<Prefs>()(persist(() => ({ theme: 'light', volume: 1 }), options));
    await first.persist.rehydrate();
    // WHEN state changes
    first.setState({ theme: 'dark', volume: 0.5 });
    await new Promise((r) => setTimeout(r, 0));
    // THEN it is in the key-value table, and a second store (a reload) hydrates from it
    expect(JSON.parse(fake.kv.get('prefs') ?? 'null')).toEqual({ state: { theme: 'dark', volume: 0.5 }, version: 0 });
    const second = create<Prefs>()(persist(() => ({ theme: 'light', volume: 1 }), options));
    await second.persist.rehydrate();
    expect(second.getState()).toEqual({ theme: 'dark', volume: 0.5 });
  });

  it('composes with persist: preferences persisted by persist, the session autosaved by recovery', async () => {
    interface App extends Editor {
      theme: string;
    }
    const fake = new FakeStore();
    const storage = createRecoveryStorage(fake.asStore);
    const useApp = create<App>()(
      persist(
        recovery(
          (set) => ({
            id: 's1', text: '', voiceId: 'v', params: { seed: 0, temperature: 1 }, cursor: 0, theme: 'light',
            setText: (text) => set({ text }),
          }),
          { store: fake.asStore, sessionId: (s) => s.id, select: (s) => ({ text: s.text, voiceId: s.voiceId, params: s.params }), merge },
        ),
        { name: 'app-prefs', storage: createJSONStorage(() => storage), partialize: (s) => ({ theme: s.theme }) },
      ),
    );
    await hydrated(useApp);
    useApp.getState().setText('one');
    useApp.getState().setText('two');
    useApp.setState({ theme: 'dark' });
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.called('autosave').map(([i]) => (i as { text: string }).text)).toEqual(['one', 'two']);
    expect(JSON.parse(fake.kv.get('app-prefs') ?? 'null').state).toEqual({ theme: 'dark' });
  });
});

describe('audio through the store', () => {
  const DRAFT = 'A draft the user never edited.';
  const part = (n: number) => new Uint8Array([n, n, n]).buffer;
  const textOf = (fake: FakeStore, id: string) => (fake.sessions.get(id) as { text: string } | undefined)?.text;

  it('Generate on an unedited draft stores its text, voice and params before the audio: restore brings all of them back', async () => {
    // GIVEN a store whose state starts with a draft (say from the app's own defaults), never edited
    const fake = new FakeStore();
    const useEditor = editorStore(fake, fake.asStore, DRAFT);
    await hydrated(useEditor);
    expect(fake.called('autosave')).toEqual([]); // no change, so autosave never saw it
    // WHEN "Generate" sends the parts through the slice, with no take started
    const { appendPart, completeTake } = useEditor.getState().recovery;
    const stored = await Promise.all([appendPart(0, part(0)), appendPart(1, part(1))]);
    await completeTake();
    // THEN the snapshot was committed before the first part, and restore gives text, voice, params and parts
    expect(stored.every((r) => r.stored)).toBe(true);
    const order = fake.calls.map((c) => c.method).filter((m) => m === 'save' || m === 'appendChunk' || m === 'complete');
    expect(order).toEqual(['save', 'appendChunk', 'appendChunk', 'complete']);
    const session = await useEditor.recovery.restore('s1');
    expect(session).toMatchObject({ text: DRAFT, voiceId: 'default', params: { seed: 0, temperature: 0.8 }, completed: true });
    expect(session?.chunks.map((c) => c.index)).toEqual([0, 1]);
  });

  it('startTake({ clear: true }) drops the earlier parts, keeps the new text, voice and params, and parts wait for it', async () => {
    // GIVEN a session with a three-part take of earlier text
    const fake = new FakeStore();
    fake.sessions.set('s1', restored('s1', 'Old words', { seed: 0, temperature: 0.8 }, 3));
    const useEditor = editorStore(fake, fake.asStore, 'Old words');
    await hydrated(useEditor);
    // WHEN the text changes and a take of one part is generated again in the same session, the
    // part sent without waiting for startTake
    useEditor.getState().setText('New words');
    useEditor.setState({ voiceId: 'james', params: { seed: 5, temperature: 1 } });
    const start = useEditor.getState().recovery.startTake({ clear: true });
    const appended = useEditor.getState().recovery.appendPart(0, part(9));
    await Promise.all([start, appended]);
    // THEN only the new part is stored, with what the state shows
    const session = await useEditor.recovery.restore('s1');
    expect(session).toMatchObject({ text: 'New words', voiceId: 'james', params: { seed: 5, temperature: 1 } });
    expect(session?.chunks.map((c) => new Uint8Array(c.bytes)[0])).toEqual([9]);
    const order = fake.calls.map((c) => c.method).filter((m) => ['delete', 'save', 'clearChunks', 'appendChunk'].includes(m));
    expect(order).toEqual(['save', 'clearChunks', 'appendChunk']);
  });

  it('clearParts(id) of a session the state has left keeps its stored text and params; of an unknown one does nothing', async () => {
    const fake = new FakeStore();
    fake.sessions.set('other', restored('other', 'Stored elsewhere', { seed: 3, temperature: 1 }, 2));
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    await useEditor.recovery.clearParts('other');
    expect(await useEditor.recovery.restore('other')).toMatchObject({ text: 'Stored elsewhere', params: { seed: 3 }, chunks: [] });
    expect(await useEditor.recovery.clearParts('nowhere')).toEqual({ stored: true, evicted: [] });
    expect(fake.called('clearChunks')).toEqual([['other']]);
    expect(fake.called('delete')).toEqual([]);
  });

  it('parts sent before the store opens wait for it, and the draft still goes first', async () => {
    const fake = new FakeStore();
    let open!: (store: unknown) => void;
    const useEditor = editorStore(fake, new Promise((resolve) => (open = resolve)), DRAFT);
    const appended = useEditor.recovery.appendPart(0, part(1), { mime: 'audio/mpeg' });
    await Promise.resolve();
    expect(fake.calls).toEqual([]);
    open(fake.asStore);
    expect(await appended).toEqual({ stored: true, evicted: [] });
    expect(textOf(fake, 's1')).toBe(DRAFT);
    expect(fake.called('appendChunk')[0]?.slice(0, 2)).toEqual(['s1', 0]);
    expect(fake.called('appendChunk')[0]?.[3]).toBe('audio/mpeg');
  });

  it('a session stored with no params (the plain API\'s audio first) restores without putting null into the state', async () => {
    // GIVEN audio stored through the plain API before any text save: a row with no text, voice or params
    const fake = new FakeStore();
    await fake.appendChunk('bare', 0, part(2), 'audio/wav');
    fake.crashed = [summary('bare', '')];
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    // WHEN it is restored
    const session = await useEditor.getState().recovery.restore('bare');
    // THEN the types said params may be null, and the merge kept the state's own
    expect(session?.params).toBeNull();
    expect(useEditor.getState()).toMatchObject({ id: 'bare', voiceId: 'default', params: { seed: 0, temperature: 0.8 } });
  });

  it('startTake({ id, snapshot }) stores a take the editor no longer shows with its own text, not the editor\'s', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake, fake.asStore, 'The editor moved on.');
    await hydrated(useEditor);
    const snapshot = { text: 'The take being resumed.', voiceId: 'adam', params: { seed: 4, temperature: 1 } };
    await useEditor.recovery.startTake({ id: 'take-2', snapshot });
    await useEditor.recovery.appendPart(3, part(3), { id: 'take-2' });
    expect(await useEditor.recovery.restore('take-2')).toMatchObject({ ...snapshot, chunks: [{ index: 3 }] });
  });

  it('when the store failed to open, parts are refused at once and no new open is tried per part', async () => {
    const fake = new FakeStore();
    let attempts = 0;
    const useEditor = editorStore(fake, () => (++attempts, Promise.reject(new Error('recovery is off'))), DRAFT);
    await new Promise<void>((resolve) => useEditor.recovery.onFinishHydration(() => resolve()));
    await expect(useEditor.recovery.appendPart(0, part(0))).rejects.toThrow('recovery is off');
    await expect(useEditor.getState().recovery.completeTake()).rejects.toThrow('recovery is off');
    expect(attempts).toBe(1);
  });

  it('an action with no session says so', async () => {
    const fake = new FakeStore();
    const useEditor = editorStore(fake);
    await hydrated(useEditor);
    useEditor.setState({ id: '' });
    await expect(useEditor.recovery.appendPart(0, part(0))).rejects.toThrow(/no session/);
  });
});
