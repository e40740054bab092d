// Entry point of the package: loads the wasm once, then opens stores.
import init, { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';
import { hintKey } from './hint.js';

export { RecoveryStore };
export { createRecoveryStorage } from './storage.js';

let ready;

/** The store's database when `dbName` is not given (as in the wasm's `OpenOptions`). */
const DEFAULT_DB = 'chatterbox-recovery';

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
function wasmCandidates() {
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
async function fetchWasm(url) {
  let response;
  let bytes;
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

async function loadWasm(wasmUrl) {
  const errors = [];
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
 * `wasmUrl` to serve it from elsewhere. Rejects with an Error that names the line to add when the
 * URL does not give WebAssembly (and lets a later call try again).
 */
export function initRecovery(wasmUrl) {
  ready ??= loadWasm(wasmUrl).then(
    () => undefined,
    (error) => {
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
 * a little behind, e.g. after a hard kill); `detect()` is the answer.
 */
export function peekSessions(dbName = DEFAULT_DB) {
  try {
    const index = JSON.parse(localStorage.getItem(hintKey(dbName, 'index')));
    return Object.entries(index ?? {})
      .filter(([, updatedAt]) => typeof updatedAt === 'number')
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
RecoveryStore.prototype.recoveryLink = async function recoveryLink(sessionId) {
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
RecoveryStore.prototype.restoreCopy = function restoreCopy(sessionId, options = {}) {
  return this.recover(null, { ...options, copyOf: sessionId });
};

/**
 * The token of a recovery link this page was opened with (`#recover=<token>`), or null; the
 * fragment is removed from the address bar (`history.replaceState`) so it is neither bookmarked
 * nor shared by accident. Call once on load, then `store.recover(null, {token})`.
 */
export function takeRecoveryToken() {
  const match = /^#recover=([A-Za-z0-9_-]{16,256})$/.exec(globalThis.location?.hash ?? '');
  if (!match) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return match[1];
}

/**
 * Whether the browser deleted the database since it was last open because it found it damaged.
 * Chromium does this after a crash now and then (a checksum mismatch in its own files), and says
 * so in the upgrade event of the next open (`dataLoss: "total"`). This open asks without creating
 * anything: where the database is missing it aborts, and the store's own open creates it.
 * Resolves with the browser's message, or null.
 */
function browserDataLoss(dbName) {
  // Only Chromium reports it; elsewhere there is nothing to ask, and no open to spend.
  if (typeof IDBVersionChangeEvent === 'undefined' || !('dataLoss' in IDBVersionChangeEvent.prototype)) {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    let loss = null;
    let req;
    try {
      req = indexedDB.open(dbName);
    } catch {
      return resolve(null); // no IndexedDB here: the store's open says why
    }
    req.onupgradeneeded = (e) => {
      if (e.dataLoss === 'total') loss = e.dataLossMessage || 'the browser deleted its damaged storage';
      req.transaction.abort();
    };
    req.onsuccess = () => {
      req.result.close();
      resolve(loss);
    };
    req.onerror = () => resolve(loss);
    req.onblocked = () => resolve(null);
  });
}

/**
 * Loads the wasm if needed and opens the recovery store. The store's `dataLoss` is the browser's
 * message when it deleted this storage as damaged since the last open (nothing saved on this
 * browser before then can come back; a server copy still can), else null.
 */
export async function openRecoveryStore(options = {}) {
  const { wasmUrl, ...storeOptions } = options;
  const [, dataLoss] = await Promise.all([
    initRecovery(wasmUrl),
    browserDataLoss(storeOptions.dbName ?? DEFAULT_DB),
  ]);
  const store = await RecoveryStore.open(storeOptions);
  store.dataLoss = dataLoss;
  return store;
}
