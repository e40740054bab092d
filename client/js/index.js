// Entry point of the package: loads the wasm once, then opens stores.
import init, { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';

export { RecoveryStore };
export { createRecoveryStorage } from './zustand.js';

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

/** Loads the wasm if needed and opens the recovery store. */
export async function openRecoveryStore(options = {}) {
  const { wasmUrl, ...storeOptions } = options;
  await initRecovery(wasmUrl);
  return RecoveryStore.open(storeOptions);
}
