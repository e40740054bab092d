// Zustand `StateStorage` over the recovery store's IndexedDB key-value
// store: use with `persist(..., { storage: createJSONStorage(() => storage) })`.
// Accepts the store or a promise of it, so the Zustand store can be created
// at module load while the wasm is still loading. No import of Zustand: the
// core package works without it.

import type { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';

/** Structurally Zustand's `StateStorage` (async flavour). */
export interface RecoveryStateStorage {
  getItem(name: string): Promise<string | null>;
  setItem(name: string, value: string): Promise<void>;
  removeItem(name: string): Promise<void>;
}

export function createRecoveryStorage(store: RecoveryStore | Promise<RecoveryStore>): RecoveryStateStorage {
  const ready = Promise.resolve(store);
  return {
    getItem: async (name) => (await ready).getItem(name),
    setItem: async (name, value) => (await ready).setItem(name, value),
    removeItem: async (name) => (await ready).removeItem(name),
  };
}
