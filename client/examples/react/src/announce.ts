// Every state change is also announced as a `demo:*` event on `window`, exactly as the plain demo
// does: the browser end-to-end suites listen to these and run unchanged against this page.
import type { RecoveryStore, SessionInput, StatusEvent } from '@chatterbox/recovery-client';
import { snapshotOf, useStudio, type Studio } from './studio';

export function emit(name: string, detail: object = {}): void {
  window.dispatchEvent(new CustomEvent(`demo:${name}`, { detail }));
}

export const inputOf = (state: Studio): SessionInput => ({ id: state.sessionId, ...snapshotOf(state) });

/** The latest snapshot handed over per session, for `demo:committed`. */
const latest = new Map<string, SessionInput>();

/** Remembers a snapshot handed to the store outside the editor's autosave. */
export function queued(input: SessionInput): void {
  latest.set(input.id, input);
}

/**
 * The store's statuses are honest by contract: `pending` at once for every edit not yet
 * committed, `saved` only once everything handed over is committed. So on `saved` the latest
 * snapshot of each session named is in IndexedDB.
 */
function onStatus(event: StatusEvent): void {
  const { status, sessionIds, message, evicted } = event;
  emit('status', { status, sessionIds, message, evicted });
  if (status === 'saved') {
    for (const id of sessionIds) {
      const input = latest.get(id);
      if (input) emit('committed', { kind: 'session', id, text: input.text, voiceId: input.voiceId, params: input.params });
    }
  } else if (status === 'quota') {
    const dropped = evicted.length ? ` Audio of ${evicted.length} older take(s) was removed.` : '';
    useStudio.setState({ storageFull: `${message ?? 'audio is not being saved'}.${dropped} TTS goes on.` });
    for (const id of evicted) markEvicted(id);
  }
}

function markEvicted(id: string): void {
  useStudio.setState((state) => {
    const take = state.takes.get(id);
    if (!take) return {};
    const chunks = new Map([...take.chunks].map(([i, c]) => [i, { ...c, stored: false }]));
    return { takes: new Map(state.takes).set(id, { ...take, chunks, note: 'audio removed from this device to make room' }) };
  });
}

// The editor's snapshots as the middleware queues them, from the first change on.
useStudio.subscribe((state) => queued(inputOf(state)));

/** Announces the store's status events; returns the unsubscribe. */
export function announce(store: RecoveryStore): () => void {
  const off: unknown = store.onStatus(onStatus);
  return typeof off === 'function' ? () => void off() : () => store.offStatus(onStatus);
}
