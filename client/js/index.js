// Entry point of the package: loads the wasm once, then opens stores.
import init, { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';

export { RecoveryStore };
export { createRecoveryStorage } from './storage.js';

let ready;

/** The store's database when `dbName` is not given (as in the wasm's `OpenOptions`). */
const DEFAULT_DB = 'chatterbox-recovery';

/**
 * Loads and instantiates the wasm module, once. By default it is fetched
 * next to the glue (`new URL(..., import.meta.url)`), which bundlers such as
 * Vite and webpack 5 understand; pass `wasmUrl` to serve it from elsewhere.
 */
export function initRecovery(wasmUrl) {
  ready ??= init(wasmUrl === undefined ? undefined : { module_or_path: wasmUrl }).then(() => undefined);
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
    const index = JSON.parse(localStorage.getItem(`chatterbox-recovery:${dbName}:index`));
    return Object.entries(index ?? {})
      .filter(([, updatedAt]) => typeof updatedAt === 'number')
      .map(([id, updatedAt]) => ({ id, updatedAt }))
      .sort((a, b) => b.updatedAt - a.updatedAt);
  } catch {
    return []; // no localStorage here, or a damaged index
  }
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
