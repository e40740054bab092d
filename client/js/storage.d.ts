import type { RecoveryStore } from '../pkg/chatterbox_recovery_client.js';

/** Structurally Zustand's `StateStorage` (async flavour). */
export interface RecoveryStateStorage {
  getItem(name: string): Promise<string | null>;
  setItem(name: string, value: string): Promise<void>;
  removeItem(name: string): Promise<void>;
}

export function createRecoveryStorage(
  store: RecoveryStore | Promise<RecoveryStore>,
): RecoveryStateStorage;
