// Type-checked (tsc --noEmit), never run: a front-end's use of the package.
import {
  peekSessions,
  openRecoveryStore,
  createRecoveryStorage,
  type RecoverResult,
  type SessionSummary,
  type StatusEvent,
} from '../js/index.js';

// Zustand's StateStorage, as declared by zustand/middleware (v4 and v5).
interface StateStorage {
  getItem: (name: string) => string | null | Promise<string | null>;
  setItem: (name: string, value: string) => unknown | Promise<unknown>;
  removeItem: (name: string) => unknown | Promise<unknown>;
}

export async function demo(): Promise<void> {
  const hinted: number = peekSessions().filter((s) => Date.now() - s.updatedAt < 864e5).length;
  if (hinted > 0) console.log('sessions to look at', peekSessions('my-db')[0]?.id);
  const store = await openRecoveryStore({ apiBaseUrl: 'http://127.0.0.1:3000', debounceMs: 800 });
  const tab: string = store.tabId;

  store.onStatus((event: StatusEvent) => {
    const label: string = event.status === 'quota' ? `full, evicted ${event.evicted.length}` : event.status;
    console.log(tab, label, event.sessionIds);
  });

  store.autosave({ id: 's1', text: 'Hello', voiceId: 'v1', params: { speed: 1.1 } });
  await store.flush();
  const written = await store.appendChunk('s1', 0, new ArrayBuffer(8), 'audio/wav');
  if (!written.stored) console.warn('storage full');
  await store.appendChunk('s1', 1, new Uint8Array(8), 'audio/wav');
  await store.complete('s1');

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

  const estimate = await store.estimate();
  const persisted: boolean = await store.requestPersist();
  console.log(estimate?.usage, estimate?.quota, persisted, await store.list(), await store.clientSecret());

  const storage: StateStorage = createRecoveryStorage(store);
  const lazy: StateStorage = createRecoveryStorage(openRecoveryStore());
  await storage.setItem('app', '{}');
  console.log(await lazy.getItem('app'));
  await store.close();
}
