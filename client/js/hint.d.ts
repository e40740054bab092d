/** What the start-up hint says: a cheap guess from localStorage; `detect()` is the answer. */
export interface RecoveryHint {
  /** Sessions in the store's localStorage index. */
  sessions: number;
  /** Of those, saved since the last clean exit and within `maxAge`. */
  unclosed: number;
  /** The newest session's `updatedAt` (ms since the epoch), or null when there is none. */
  newest: number | null;
  /** `unclosed > 0`: work may be waiting, so show the recovery banner now. */
  crashed: boolean;
}

/** Which database: as in `openRecoveryStore({ dbName, user })`. */
export interface RecoveryDbOptions {
  /** The store's database, as in `openRecoveryStore({ dbName })` (default `chatterbox-recovery`). */
  dbName?: string;
  /**
   * The signed-in user, as in `openRecoveryStore({ user })`: that user's own database, named by a hash of the id.
   * Empty or missing: `dbName` itself.
   */
  user?: string | null;
}

export interface RecoveryHintOptions extends RecoveryDbOptions {
  /** Sessions older than this (ms) do not count; default one day. */
  maxAge?: number;
  /** The current time (ms since the epoch); default `Date.now()`. */
  now?: number;
}

/**
 * Reads the hint synchronously (no wasm), from localStorage only: null when there is no index, a damaged one, or
 * no localStorage. Never throws.
 */
export function readRecoveryHint(options?: RecoveryHintOptions): RecoveryHint | null;

/**
 * Reads the hint and, when `crashed`, marks `root` (default `<html>`) with class `recovery-hinted`,
 * `data-recovery-hint="crashed"` and `data-recovery-hint-at` (ms since navigation start), so CSS
 * can show the banner in the first paint. Returns the hint. Never throws.
 *
 * When the localStorage index says nothing crashed (Chromium may lose its last write when the browser is killed
 * within a second or so of a save), it also reads the store's IndexedDB database, without the wasm and never
 * creating it, and marks `root` the same way a few ms later if the newest session's tab closed without a clean
 * exit, adding `data-recovery-hint-from="indexeddb"`. That answer is not in the return value, which is
 * localStorage's: follow the mark (`recoveryHinted`, `onRecoveryHint`) in code that may run before it lands.
 */
export function applyRecoveryHint(root?: HTMLElement | null, options?: RecoveryHintOptions): RecoveryHint | null;

/** Whether `<html>` carries the hint's mark (`data-recovery-hint="crashed"`): work may be waiting. False without a document. */
export function recoveryHinted(): boolean;

/**
 * Calls `changed` whenever the hint's mark on `<html>` changes (the hint's IndexedDB read can set it after the app's
 * first render); returns the function that stops that. With `recoveryHinted`, the subscribe/snapshot pair of React's
 * `useSyncExternalStore`: `useSyncExternalStore(onRecoveryHint, recoveryHinted, () => false)`.
 */
export function onRecoveryHint(changed: () => void): () => void;

/**
 * Records that the page closed with nothing left to recover (call it on `pagehide` once the
 * recovery check is done and no crashed session is on offer). Never throws.
 */
export function markCleanExit(options?: RecoveryDbOptions & { now?: number }): void;

/**
 * `applyRecoveryHint(null, options)` as the text of a classic inline script, for an HTML
 * template or a build step (e.g. Vite's `transformIndexHtml`): a classic script in <head> runs
 * before the first paint in every browser, where a module script may not. With `user`, the script names the user's
 * database (a hash), not the user.
 */
export function recoveryHintScript(options?: Pick<RecoveryHintOptions, 'dbName' | 'user' | 'maxAge'>): string;

/** The localStorage key of one of the store's hints (`index`, `clean-exit`) for `dbName`. */
export declare function hintKey(dbName: string, what: 'index' | 'clean-exit'): string;

/**
 * The database of `{ user, dbName }`: `dbName` (default `chatterbox-recovery`), or with a user
 * `<dbName>:user-<16 hex digits>`, a 64-bit hash of the id, so the id (often an e-mail) is not in a
 * name devtools show. Not a secret: anyone who can guess the id can compute it.
 */
export function recoveryDbName(options?: RecoveryDbOptions): string;
