import type {
  OpenOptions,
  RecoverOptions,
  RecoverResult,
  RecoveryStore,
} from '../pkg/chatterbox_recovery_client.js';

export type {
  AudioChunk,
  BackupOptions,
  BackupResult,
  OpenOptions,
  Progress,
  RecoverOptions,
  RecoverResult,
  RestoredSession,
  SaveStatus,
  ServerCopy,
  SessionInput,
  SessionRecord,
  SessionSummary,
  StatusEvent,
  StorageEstimate,
  TabState,
  WriteResult,
} from '../pkg/chatterbox_recovery_client.js';
export { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';
export { createRecoveryStorage, type RecoveryStateStorage } from './storage.js';
export { recoveryDbName, type RecoveryDbOptions } from './hint.js';
import type { RecoveryDbOptions } from './hint.js';

export interface OpenRecoveryOptions extends OpenOptions {
  /**
   * Where to fetch the .wasm from, if not next to the glue (e.g. `import wasmUrl from
   * '@chatterbox/recovery-client/wasm?url'` in Vite). Default: next to the glue, and under `vite`
   * dev also the package's own folder.
   */
  wasmUrl?: string | URL;
  /**
   * The signed-in user, when one browser profile may serve several: the store uses that user's
   * own database, `recoveryDbName({ dbName, user })` (a hash of the id, not the id). Pass the same
   * to the hint and to `clearRecoveryData` on sign-out. Empty or missing: `dbName` itself.
   */
  user?: string | null;
}

/**
 * Loads and instantiates the wasm module, once. Rejects, naming the line to add, when no URL gives
 * WebAssembly (the bytes' magic number is checked first); a later call tries again.
 */
export function initRecovery(wasmUrl?: string | URL): Promise<void>;

/** A session as the localStorage hint knows it. */
export interface SessionHint {
  id: string;
  /** ms since the epoch, as in `SessionRecord.updatedAt`. */
  updatedAt: number;
}

/**
 * A first look at start-up, synchronous and before the wasm loads: the
 * sessions stored in this browser, newest first, from a small localStorage
 * index. Only a hint (it can be missing or a little behind); `detect()` is
 * the answer. A `dbName`, or `{ dbName, user }` as in `openRecoveryStore`.
 */
export function peekSessions(db?: string | RecoveryDbOptions): SessionHint[];

/**
 * The token of a recovery link this page was opened with (`#recover=<token>`), or null; removes the
 * fragment from the address bar. Call once on load, then `store.recover(null, { token })`.
 */
export function takeRecoveryToken(): string | null;

declare module '../pkg/chatterbox_recovery_client.js' {
  interface RecoveryStore {
    /**
     * The session's recovery link: this page's URL with `#recover=<token>` (the token of its server
     * copy, or of its backup). Rejects when the session has no token yet.
     */
    recoveryLink(sessionId: string): Promise<string>;
    /**
     * Restores the caller's server copy of a session (`GET /api/recovery/sessions/{id}`): text,
     * voice, parameters and every copied part, under a new id if a different local session has
     * its id. `recover(null, { copyOf: sessionId })`.
     */
    restoreCopy(
      sessionId: string,
      options?: Omit<RecoverOptions, 'token' | 'copyOf'>,
    ): Promise<RecoverResult>;
  }
}

/** A store opened by `openRecoveryStore`. */
export type OpenedRecoveryStore = RecoveryStore & {
  /**
   * The browser's message when it deleted this storage as damaged since it was last open
   * (Chromium does, now and then, after a crash): nothing saved on this browser before then can
   * come back, though a server copy still can. Null otherwise.
   */
  dataLoss: string | null;
};

/** Loads the wasm if needed and opens the recovery store. */
export function openRecoveryStore(options?: OpenRecoveryOptions): Promise<OpenedRecoveryStore>;

/**
 * Deletes what the store keeps on this device for `{ user }` (or `{ dbName }`): its IndexedDB
 * database (sessions, audio, the client secret) and its localStorage items (the start-up hint and
 * the client secret's mirror), e.g. on sign-out from a shared browser profile. Close the store
 * first: this closes nothing, and rejects while a store this page opened for that database is
 * still open (after waiting up to 2 s for one that is closing). Rejects, naming what holds the
 * database, when the browser reports the deletion blocked. The server copies stay on the server.
 */
export function clearRecoveryData(options?: RecoveryDbOptions): Promise<void>;
