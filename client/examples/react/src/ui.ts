// Small helpers shared by the example's modules, as client/demo/ui.js is for the demo's: the page's
// query, the status line, and the way to the Zustand store and its recovery store.
import { useStudio } from './studio';

export const query = new URLSearchParams(location.search);

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
export const store = () => useStudio.recovery.getStore();
export const get = () => useStudio.getState();

type Listener = () => void;
/** Small view state the Zustand store does not need to persist or share. */
export function cell<T>(initial: T) {
  let value = initial;
  const listeners = new Set<Listener>();
  return {
    get: () => value,
    set: (next: T) => {
      value = next;
      listeners.forEach((l) => l());
    },
    subscribe: (l: Listener) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
  };
}

/** The line under the Generate button. */
export const statusLine = cell('');
