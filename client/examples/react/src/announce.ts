// Every state change is also announced as a `demo:*` event on `window`, exactly as the plain demo
// does: the browser end-to-end suites listen to these and run unchanged against this page.
import type { RecoveryStore, SessionInput, StatusEvent } from '@chatterbox/recovery-client';
import { snapshotOf, useStudio, type Studio } from './studio';

export function emit(name: string, detail: object = {}): void {
  window.dispatchEvent(new CustomEvent(`demo:${name}`, { detail }));
}

export const inputOf = (state: Studio): SessionInput => ({ id: state.sessionId, ...snapshotOf(state) });

/**
 * Which snapshot a `saved` event stands for. The store writes the latest snapshot queued for a
 * session when it emits `saving`, and commits writes in order, so pairing each `saved` with the
 * oldest unpaired `saving` never claims more than was committed.
 */
const ledger = {
  queued: new Map<string, SessionInput>(),
  inflight: new Map<string, (SessionInput | undefined)[]>(),
  chunkWrites: new Map<string, number>(),
  last: null as StatusEvent | null,
};

/** Remembers a snapshot handed to the store outside the editor's autosave. */
export function queued(input: SessionInput): void {
  ledger.queued.set(input.id, input);
}

export function chunkWrite(id: string, delta: 1 | -1): void {
  ledger.chunkWrites.set(id, (ledger.chunkWrites.get(id) ?? 0) + delta);
}

function onStatus(event: StatusEvent): void {
  const { status, sessionIds, message, evicted } = event;
  const previous = ledger.last;
  ledger.last = event;
  emit('status', { status, sessionIds, message, evicted });
  if (status === 'saving') {
    for (const id of sessionIds) {
      const list = ledger.inflight.get(id) ?? [];
      list.push(ledger.queued.get(id));
      ledger.inflight.set(id, list);
    }
  } else if (status === 'saved') {
    for (const id of sessionIds) {
      // After a full disk, a chunk write that succeeded by evicting reports quota then saved:
      // that saved is not a snapshot's.
      const fromChunk = previous?.status === 'quota' && (ledger.chunkWrites.get(id) ?? 0) > 0;
      const input = fromChunk ? undefined : ledger.inflight.get(id)?.shift();
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
