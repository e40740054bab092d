// A stand-in for the wasm RecoveryStore in unit tests of the Zustand middleware and slice: it
// records what it is asked and lets a test emit status events. IndexedDB itself is proven in
// real browsers (the client's wasm tests and the end-to-end suites), not here.
import type { RecoveryStore, StatusEvent } from '@chatterbox/recovery-client';

export interface Call {
  method: string;
  args: unknown[];
}

type Listener = (event: StatusEvent) => void;
type StoredRow = { chunks: { index: number; mime: string; bytes: ArrayBuffer }[] } & Record<string, unknown>;

export class FakeStore {
  calls: Call[] = [];
  kv = new Map<string, string>();
  crashed: object[] = [];
  sessions = new Map<string, object>();
  listeners = new Set<Listener>();
  backupResult = { token: 'tok-1', expiresAt: '2026-11-27T00:00:00Z', audioUrl: null, bytes: 4 };
  recoverResult: object = { audio: 'not-found', session: null, evicted: [] };
  tabId = 'tab-1';

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  called(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** `status` as a string: `pending` is newer than some builds' `SaveStatus`. */
  emit(event: Partial<Omit<StatusEvent, 'status'>> & { status: string }): void {
    const full = { sessionIds: [], message: null, evicted: [], ...event } as StatusEvent;
    for (const l of this.listeners) l(full);
  }

  /** Written at once here (the real store commits within a few ms). */
  autosave(input: unknown): void {
    this.record('autosave', input);
    const { id, text = '', voiceId = null, params = null } = input as { id: string; text?: string; voiceId?: string | null; params?: unknown };
    this.sessions.set(id, { ...this.row(id), text, voiceId, params });
  }
  async flush(): Promise<void> {
    this.record('flush');
  }
  async save(input: unknown) {
    this.record('save', input);
    const { id, text = '', voiceId = null, params = null } = input as { id: string; text?: string; voiceId?: string | null; params?: unknown };
    this.sessions.set(id, { ...this.row(id), text, voiceId, params });
    return { stored: true, evicted: [] };
  }
  /** As the real store: audio for a session it does not know creates an empty row (no text, voice or params). */
  async appendChunk(id: string, index: number, bytes: ArrayBuffer, mime: string) {
    this.record('appendChunk', id, index, bytes, mime);
    const row = this.row(id);
    const chunks = row.chunks.filter((c) => c.index !== index).concat({ index, mime, bytes });
    this.sessions.set(id, { ...row, chunks: chunks.sort((a, b) => a.index - b.index) });
    return { stored: true, evicted: [] };
  }
  async complete(id: string): Promise<void> {
    this.record('complete', id);
    if (!this.sessions.has(id)) throw new Error(`unknown session ${id}`);
    this.sessions.set(id, { ...this.row(id), completed: true });
  }
  /** As the real store: the parts go, the row (its token with it) stays; unknown: rejects, as `complete`. */
  async clearChunks(id: string): Promise<void> {
    this.record('clearChunks', id);
    if (!this.sessions.has(id)) throw new Error(`unknown session ${id}`);
    this.sessions.set(id, { ...this.row(id), chunks: [], completed: false, audioEvicted: false });
  }
  async delete(id: string): Promise<void> {
    this.record('delete', id);
    this.sessions.delete(id);
  }
  async list() {
    this.record('list');
    return [...this.sessions.values()].map((row) => ({ ...row, chunks: undefined, state: 'own', chunkCount: (row as StoredRow).chunks.length }));
  }
  /** The stored row of `id`, or the empty one the real store creates. */
  private row(id: string): StoredRow {
    return (this.sessions.get(id) as StoredRow | undefined) ?? (restored(id, '', null) as StoredRow);
  }
  async detect() {
    this.record('detect');
    return this.crashed;
  }
  async restore(id: string) {
    this.record('restore', id);
    return this.sessions.get(id) ?? null;
  }
  async dismiss(id: string): Promise<void> {
    this.record('dismiss', id);
  }
  async backup(id: string, options: { onProgress?: (p: object) => void }) {
    this.record('backup', id, options);
    options.onProgress?.({ phase: 'upload', loaded: 2, total: 4 });
    options.onProgress?.({ phase: 'upload', loaded: 4, total: 4 });
    return this.backupResult;
  }
  async recover(id: string | null, options: { token: string; onProgress?: (p: object) => void }) {
    this.record('recover', id, options.token);
    options.onProgress?.({ phase: 'download', loaded: 4, total: 4 });
    return this.recoverResult;
  }
  onStatus(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  offStatus(listener: Listener): void {
    this.listeners.delete(listener);
  }
  async getItem(name: string): Promise<string | null> {
    this.record('getItem', name);
    return this.kv.get(name) ?? null;
  }
  async setItem(name: string, value: string): Promise<void> {
    this.record('setItem', name, value);
    this.kv.set(name, value);
  }
  async removeItem(name: string): Promise<void> {
    this.record('removeItem', name);
    this.kv.delete(name);
  }

  /** Typed as the real thing, for the middleware's options. */
  get asStore(): RecoveryStore {
    return this as unknown as RecoveryStore;
  }
}

/** A session as `restore` resolves it. */
export function restored(id: string, text: string, params: object | null, chunks = 0): object {
  return {
    id, text, voiceId: params === null ? null : 'olivia', params, createdAt: 1, updatedAt: 2, tabId: 'old', revision: 3, completed: false,
    audioEvicted: false, serverToken: null, serverTokenExpiresAt: null, conflictOf: null,
    chunks: Array.from({ length: chunks }, (_, index) => ({ index, mime: 'audio/wav', bytes: new ArrayBuffer(4) })),
  };
}

export function summary(id: string, text: string): object {
  return { ...restored(id, text, { seed: 1 }), chunks: undefined, state: 'crashed', chunkCount: 0 };
}
