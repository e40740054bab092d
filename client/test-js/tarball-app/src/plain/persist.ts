// client/README.md, "Zustand's persist on the recovery store": Zustand's own `persist` writing to
// the store's key-value table. Type-checked with the tarball app, never run.
import { create } from 'zustand';
import { persist, createJSONStorage } from 'zustand/middleware';
import { openRecoveryStore, createRecoveryStorage } from '@chatterbox/recovery-client';

const storage = createRecoveryStorage(openRecoveryStore()); // a store or a promise of one

export const useEditor = create<{ text: string; setText: (text: string) => void }>()(
  persist((set) => ({ text: '', setText: (text) => set({ text }) }), {
    name: 'editor',
    storage: createJSONStorage(() => storage),
  }),
);
