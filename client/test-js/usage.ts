// Type-checked (tsc --noEmit), never run: a front-end's use of the package.
import {
  peekSessions,
  openRecoveryStore,
  clearRecoveryData,
  recoveryDbName,
  createRecoveryStorage,
  type RecoverResult,
  type RestoredSession,
  type SessionInput,
  type SessionSummary,
  type StatusEvent,
} from '../js/index.js';

interface Params {
  seed: number;
  temperature: number;
}

// Zustand's StateStorage, as declared by zustand/middleware (v4 and v5).
interface StateStorage {
  getItem: (name: string) => string | null | Promise<string | null>;
  setItem: (name: string, value: string) => unknown | Promise<unknown>;
  removeItem: (name: string) => unknown | Promise<unknown>;
}

export async function demo(): Promise<void> {
  const hinted: number = peekSessions().filter((s) => Date.now() - s.updatedAt < 864e5).length;
  if (hinted > 0) console.log('sessions to look at', peekSessions('my-db')[0]?.id);
  const store = await openRecoveryStore({
    apiBaseUrl: 'http://127.0.0.1:3000',
    saveDelayMs: 0,
    authorization: async () => `Bearer ${'jwt'}`,
  });
  const tab: string = store.tabId;

  const unsubscribe: () => void = store.onStatus((event: StatusEvent) => {
    const label: string = event.status === 'quota' ? `full, evicted ${event.evicted.length}` : event.status;
    if (event.status === 'pending') console.log('unsaved changes');
    console.log(tab, label, event.sessionIds);
  });

  const input: SessionInput<Params> = { id: 's1', text: 'Hello', voiceId: 'v1', params: { seed: 1, temperature: 0.8 } };
  store.autosave(input);
  await store.flush();
  const written = await store.appendChunk('s1', 0, new ArrayBuffer(8), 'audio/wav');
  if (!written.stored) console.warn('storage full');
  await store.appendChunk('s1', 1, new Uint8Array(8), 'audio/wav');
  await store.complete('s1');
  await store.clearChunks('s1');

  const crashed: SessionSummary[] = await store.detect();
  for (const s of crashed) {
    const restored = await store.restore(s.id);
    const firstChunk: ArrayBuffer | undefined = restored?.chunks[0]?.bytes;
    console.log(restored?.text, restored?.params, firstChunk?.byteLength);
    await store.dismiss(s.id);
  }

  const backup = await store.backup('s1', { ttlSeconds: 3600, onProgress: (p) => console.log(p.phase, p.loaded) });
  const recovered: RecoverResult = await store.recover('s1', { token: backup.token });
  if (recovered.audio === 'expired') console.log('audio expired; text kept:', recovered.session?.text);
  const elsewhere = (await store.recover(null, { token: backup.token })) as RecoverResult<Params>;
  const session: RestoredSession<Params> | null = elsewhere.session;
  const seed: number | undefined = session?.params?.seed;
  console.log(session?.id, seed, session?.chunks.length);
  unsubscribe();

  const estimate = await store.estimate();
  const persisted: boolean = await store.requestPersist();
  console.log(estimate?.usage, estimate?.quota, persisted, await store.list(), await store.clientSecret());

  const storage: StateStorage = createRecoveryStorage(store);
  const lazy: StateStorage = createRecoveryStorage(openRecoveryStore());
  await storage.setItem('app', '{}');
  console.log(await lazy.getItem('app'));
  await store.close();
}

// Two users on one browser profile: each user's own database, cleared on sign-out.
export async function signInAndOut(userId: string): Promise<string> {
  const seen = peekSessions({ user: userId }).length;
  const store = await openRecoveryStore({ user: userId, listenPageEvents: false });
  await store.close();
  await clearRecoveryData({ user: userId });
  await clearRecoveryData({ dbName: 'my-db' });
  // @ts-expect-error the user's id is a string, not a number
  await clearRecoveryData({ user: 42 });
  return `${recoveryDbName({ user: userId })} had ${seen}`;
}
