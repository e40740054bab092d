// Entry point of the package: loads the wasm once, then opens stores.
import init, { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';

export { RecoveryStore };
export { createRecoveryStorage } from './storage.js';

let ready;

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
export function peekSessions(dbName = 'chatterbox-recovery') {
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

/** Loads the wasm if needed and opens the recovery store. */
export async function openRecoveryStore(options = {}) {
  const { wasmUrl, ...storeOptions } = options;
  await initRecovery(wasmUrl);
  return RecoveryStore.open(storeOptions);
}
