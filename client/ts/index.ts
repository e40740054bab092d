// Entry point of the package: loads the wasm once, then opens stores.

import init, { RecoveryStore, type OpenOptions } from '../pkg/chatterbox_recovery_client.js';
import { hintKey, recoveryDbName, type RecoveryDbOptions } from './hint.js';

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
export { RecoveryStore, recoveryDbName, type RecoveryDbOptions };
export { createRecoveryStorage, type RecoveryStateStorage } from './storage.js';

// (Inside, names are the glue module's own: RecoverOptions, RecoverResult.)
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
    restoreCopy(sessionId: string, options?: Omit<RecoverOptions, 'token' | 'copyOf'>): Promise<RecoverResult>;
  }
}

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

/** A session as the localStorage hint knows it. */
export interface SessionHint {
  id: string;
  /** ms since the epoch, as in `SessionRecord.updatedAt`. */
  updatedAt: number;
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

let ready: Promise<void> | undefined;

const PACKAGE = '@chatterbox/recovery-client';
const WASM_FILE = 'chatterbox_recovery_client_bg.wasm';
/** How long fetching the wasm may take. */
const WASM_TIMEOUT_MS = 60_000;
/** Every WebAssembly binary starts with "\0asm". */
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
/** What to add when no URL gave the wasm; the error names it. */
const FIX =
  `in Vite, add \`optimizeDeps: { exclude: ['${PACKAGE}'] }\` to vite.config; ` +
  `with any bundler, pass the file's URL: \`openRecoveryStore({ wasmUrl })\` with ` +
  `\`import wasmUrl from '${PACKAGE}/wasm?url'\` (Vite) or ` +
  `\`const wasmUrl = new URL('${PACKAGE}/wasm', import.meta.url)\` (webpack 5)`;

/**
 * Where the wasm may be, in order. First next to the glue (`new URL(..., import.meta.url)`: Vite's
 * build, webpack 5, a plain `<script type="module">` page and Vite 8's dev server all rewrite or
 * honour it). Then, when this module runs from Vite's dependency cache (`vite` dev with Vite 5 to
 * 7 pre-bundles the package into node_modules/.vite/deps/ and leaves that URL pointing into the
 * cache, where the dev server answers with index.html), the package's own folder beside the cache,
 * which the dev server serves as a static file.
 */
function wasmCandidates(): URL[] {
  // A string literal, so that bundlers find the file (and copy it).
  const here = new URL('../pkg/chatterbox_recovery_client_bg.wasm', import.meta.url);
  const at = import.meta.url.lastIndexOf('/.vite/deps/');
  return at < 0 ? [here] : [here, new URL(`${import.meta.url.slice(0, at)}/${PACKAGE}/pkg/${WASM_FILE}`)];
}

/**
 * Fetches the wasm and checks that the bytes are WebAssembly before they are instantiated: a dev
 * server that does not know the file answers with its HTML page, and the compiler's own message
 * ("expected magic word 00 61 73 6d") does not say what to do. Resolves with the bytes, or with an
 * Error that says what came instead. (Read whole, not streamed into the compiler: at ~140 KB the
 * compile a stream would overlap is a few milliseconds.)
 */
async function fetchWasm(url: string | URL): Promise<Uint8Array | Error> {
  let response: Response;
  let bytes: Uint8Array;
  try {
    // A stalled server must not hold the store's open for ever: 60 s for the ~140 KB.
    response = await fetch(url, { signal: AbortSignal.timeout?.(WASM_TIMEOUT_MS) });
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    return new Error(`${url}: ${error instanceof Error ? error.message : error}`);
  }
  if (response.ok && WASM_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const type = response.headers.get('content-type') ?? 'no content type';
  const html = /html/i.test(type) || /^\s*</.test(new TextDecoder().decode(bytes.subarray(0, 16)));
  return new Error(
    `${url} is not WebAssembly (HTTP ${response.status}, ${type}, starts with ${head || 'nothing'}` +
      `${html ? ': an HTML page, so the server does not know the file' : ''})`,
  );
}

async function loadWasm(wasmUrl: string | URL | undefined): Promise<unknown> {
  const errors: string[] = [];
  for (const url of wasmUrl === undefined ? wasmCandidates() : [wasmUrl]) {
    const result = await fetchWasm(url);
    if (!(result instanceof Error)) return init({ module_or_path: result });
    errors.push(result.message);
  }
  throw new Error(`${PACKAGE}: could not load its WebAssembly. ${errors.join('; ')}. To fix it, ${FIX}.`);
}

/**
 * Loads and instantiates the wasm module, once. By default it is fetched next to the glue
 * (`new URL(..., import.meta.url)`), which Vite (build and dev) and webpack 5 understand; pass
 * `wasmUrl` to serve it from elsewhere. Rejects with an Error that names the line to add when no
 * URL gives WebAssembly (the bytes' magic number is checked first); a later call tries again.
 */
export function initRecovery(wasmUrl?: string | URL): Promise<void> {
  ready ??= loadWasm(wasmUrl).then(
    () => undefined,
    (error: unknown) => {
      ready = undefined;
      throw error;
    },
  );
  return ready;
}

/**
 * A first look at start-up, synchronous and before the wasm loads: the
 * sessions stored in this browser, newest first, from a small localStorage
 * index the store keeps beside IndexedDB. Only a hint (it can be missing or
 * a little behind, e.g. after a hard kill); `detect()` is the answer. Takes
 * a `dbName` or `{ dbName, user }` as `openRecoveryStore` does.
 */
export function peekSessions(db?: string | RecoveryDbOptions): SessionHint[] {
  try {
    const dbName = typeof db === 'string' ? db : recoveryDbName(db);
    // JSON.parse(null) is null: no index yet.
    const index: Record<string, unknown> | null = JSON.parse(localStorage.getItem(hintKey(dbName, 'index'))!);
    return Object.entries(index ?? {})
      .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
      .map(([id, updatedAt]) => ({ id, updatedAt }))
      .sort((a, b) => b.updatedAt - a.updatedAt);
  } catch {
    return []; // no localStorage here, or a damaged index
  }
}

/**
 * The session's recovery link: this page's URL with `#recover=<token>`, the token kept with the
 * session (its server copy's, which the first copy brings within seconds of the first edit, or its
 * backup's). In the fragment, so no server, log or Referer sees it. Rejects when the session has no
 * token yet.
 */
RecoveryStore.prototype.recoveryLink = async function recoveryLink(this: RecoveryStore, sessionId) {
  const session = (await this.list()).find((s) => s.id === sessionId);
  if (!session) throw new Error(`no session with id "${sessionId}"`);
  if (!session.serverToken) {
    throw new Error(`session "${sessionId}" has no server copy yet: turn serverCopy on, or back it up`);
  }
  return `${location.href.split('#')[0]}#recover=${session.serverToken}`;
};

/**
 * Restores the caller's server copy of a session (text, voice, parameters and every copied part),
 * under a new id if a different local session has its id: `recover` with `copyOf`.
 */
RecoveryStore.prototype.restoreCopy = function restoreCopy(this: RecoveryStore, sessionId, options = {}) {
  return this.recover(null, { ...options, copyOf: sessionId });
};

/**
 * The token of a recovery link this page was opened with (`#recover=<token>`), or null; the
 * fragment is removed from the address bar (`history.replaceState`) so it is neither bookmarked
 * nor shared by accident. Call once on load, then `store.recover(null, { token })`.
 */
export function takeRecoveryToken(): string | null {
  const match = /^#recover=([A-Za-z0-9_-]{16,256})$/.exec(globalThis.location?.hash ?? '');
  if (!match) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return match[1];
}

/** What Chromium adds to the upgrade event (not in TypeScript's DOM types). */
type DataLossEvent = IDBVersionChangeEvent & { dataLoss?: string; dataLossMessage?: string };

/**
 * Whether the browser deleted the database since it was last open because it found it damaged.
 * Chromium does this after a crash now and then (a checksum mismatch in its own files), and says
 * so in the upgrade event of the next open (`dataLoss: "total"`). This open asks without creating
 * anything: where the database is missing it aborts, and the store's own open creates it.
 * Resolves with the browser's message, or null.
 */
function browserDataLoss(dbName: string): Promise<string | null> {
  // Only Chromium reports it; elsewhere there is nothing to ask, and no open to spend.
  if (typeof IDBVersionChangeEvent === 'undefined' || !('dataLoss' in IDBVersionChangeEvent.prototype)) {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    let loss: string | null = null;
    let req: IDBOpenDBRequest;
    try {
      req = indexedDB.open(dbName);
    } catch {
      return resolve(null); // no IndexedDB here: the store's open says why
    }
    req.onupgradeneeded = (e: DataLossEvent) => {
      if (e.dataLoss === 'total') loss = e.dataLossMessage || 'the browser deleted its damaged storage';
      req.transaction!.abort();
    };
    // The start-up hint's read (hint.js) may have been the first open, and handed the report on.
    const handed = () => {
      const d = globalThis.document?.documentElement?.dataset;
      return loss ?? (d?.recoveryDataLossDb === dbName ? (d.recoveryDataLoss ?? null) : null);
    };
    req.onsuccess = () => {
      req.result.close();
      resolve(handed());
    };
    req.onerror = () => resolve(handed());
    req.onblocked = () => resolve(null);
  });
}

/** This page's stores opened by `openRecoveryStore` and not yet closed, with their database's name. */
const pageStores = new Map<RecoveryStore, string>();

const closeStore = RecoveryStore.prototype.close;
RecoveryStore.prototype.close = function close(this: RecoveryStore) {
  const closed = closeStore.call(this);
  const forget = () => pageStores.delete(this);
  closed.then(forget, forget);
  return closed;
};

/**
 * Loads the wasm if needed and opens the recovery store: for `user`, that user's own database
 * (`recoveryDbName`). The store's `dataLoss` is the browser's message when it deleted this
 * storage as damaged since the last open (nothing saved on this browser before then can come back;
 * a server copy still can), else null.
 */
export async function openRecoveryStore(options: OpenRecoveryOptions = {}): Promise<OpenedRecoveryStore> {
  const { wasmUrl, user, ...storeOptions } = options;
  storeOptions.dbName = recoveryDbName({ dbName: storeOptions.dbName, user });
  const [, dataLoss] = await Promise.all([initRecovery(wasmUrl), browserDataLoss(storeOptions.dbName)]);
  const store = (await RecoveryStore.open(storeOptions)) as OpenedRecoveryStore;
  store.dataLoss = dataLoss;
  pageStores.set(store, storeOptions.dbName);
  return store;
}

/** How long `clearRecoveryData` waits for this page's store to finish closing (an unmount closes it a tick later). */
const CLOSE_WAIT_MS = 2_000;

/**
 * Deletes everything the store keeps on this device for `{ user }` (or `{ dbName }`): its
 * IndexedDB database (sessions, audio, the client secret) and its localStorage items (the
 * start-up hint's index and clean-exit mark, the client secret's mirror). For sign-out on a
 * browser profile that several users share. Close the store first: it closes nothing itself, and
 * rejects, deleting nothing, while a store this page opened for that database stays open (it
 * waits up to 2 s for one that is closing, e.g. a RecoveryProvider that just unmounted). Another
 * tab's store for it loses its connection. Rejects, naming what holds it, when the browser
 * reports the deletion blocked; the database then goes once that connection closes. The server
 * copies stay on the server.
 */
export async function clearRecoveryData(options?: RecoveryDbOptions): Promise<void> {
  const dbName = recoveryDbName(options);
  for (let waited = 0; [...pageStores.values()].includes(dbName); waited += 25) {
    if (waited >= CLOSE_WAIT_MS) {
      throw new Error(
        `${PACKAGE}: clearRecoveryData: this page's store for "${dbName}" is still open: ` +
          'await store.close() first (with React, unmount the RecoveryProvider that opened it)',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(dbName);
      request.onsuccess = () => resolve();
      request.onerror = () =>
        reject(new Error(`${PACKAGE}: could not delete the database "${dbName}": ${request.error?.message}`));
      // Fires only while a connection stays open after being asked to close (every store closes at once): an
      // older copy of this package in another tab, or a connection the app opened itself.
      request.onblocked = () =>
        reject(
          new Error(
            `${PACKAGE}: deleting the database "${dbName}" is blocked: another tab or window of this site ` +
              'holds it open (an older version of this package, or an IndexedDB connection the app opened ' +
              'itself); close it, and the deletion goes ahead',
          ),
        );
    });
  } finally {
    // After the deletion (even a failed one: a store rebuilds them at its next open), so that no store closing
    // meanwhile writes them back.
    try {
      // (hint.d.ts names the two keys the hint reads; the client secret's mirror is named the same way.)
      for (const what of ['index', 'clean-exit', 'client-secret']) localStorage.removeItem(hintKey(dbName, what as 'index'));
    } catch {
      // No localStorage here: nothing of it to clear.
    }
  }
}
