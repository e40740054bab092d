// Saving and the auto-save indicator. The indicator follows the store's status events, which
// are honest by contract: `pending` at once for every edit not yet committed, `saved` only once
// everything handed to `autosave` is committed. With the server copy on it tells the two copies
// apart by the package's own rule (status.js, as the React indicator and the Zustand slice):
// "Saved on this device" (`saved`), "· backing up…" (`copy-pending`), "Backed up to the server"
// (`backed-up`, only after the store's own word for the last commit; a new edit drops it),
// `offline`, `copy-error`. Before the first edit it is `idle` ("Nothing to
// save yet"), or `waiting` while crashed sessions are on offer; a `saved` indicator says so too
// while they are (both with `data-waiting`). `demo:committed` (kind `session`) is announced
// on `saved`, for the latest snapshot of each session: everything given up to then is in
// IndexedDB.
import { IDLE, nextStatus } from '/client/js/status.js';
import { emit, errorText, state, ui } from './ui.js';

/** The latest snapshot handed over per session, for `demo:committed`. */
const latest = new Map();
/** Snapshots edited before the store was open, handed over once it is. */
const early = new Map();
let storageFull = false;
/** Told each session whose audio was removed to make room (the takes module marks its take). */
let onEvicted = () => {};
/** The save state and its words, as last set; what is shown also depends on `waiting`. */
let current = { status: ui.indicator.dataset.state, label: ui.indicator.querySelector('.label').textContent };
/** Crashed sessions on offer for recovery. */
let waiting = 0;

function showIndicator() {
  const { status, label } = current;
  const waits = waiting > 0 && (status === 'idle' || status === 'saved');
  const shown = waits && status === 'idle' ? 'waiting' : status;
  const words = shown === 'waiting' ? 'Earlier work waiting to be restored'
    : waits ? `${label}; earlier work waiting to be restored` : label;
  ui.indicator.dataset.state = shown;
  if (waits) ui.indicator.dataset.waiting = 'true';
  else delete ui.indicator.dataset.waiting;
  ui.indicator.querySelector('.label').textContent = words;
  ui.indicator.title = words;
  emit('indicator', { state: shown, label: words });
}

export function setIndicator(status, label) {
  current = { status, label };
  showIndicator();
}

/** How many crashed sessions are on offer (the recovery banner's count). */
export function setWaiting(count) {
  waiting = count;
  showIndicator();
}

const SAVED = 'Saved on this device';

/** The indicator's words for a state of `nextStatus`, with the store's message where it explains. */
function words({ status, message }) {
  switch (status) {
    case 'pending':
      return 'Unsaved changes…';
    case 'saving':
      return 'Saving…';
    case 'saved':
      return SAVED;
    case 'error':
      return `Not saved: ${message ?? 'storage error'}`;
    case 'copy-pending':
      return `${SAVED} · backing up…`;
    case 'backed-up':
      return 'Backed up to the server';
    case 'offline':
      return 'Offline: saved on this device, will back up when online';
    case 'copy-error':
      // The store's message says why, when it retries and what to do.
      return message?.startsWith('Server copy failed') ? message
        : `Server copy failed: ${message ?? 'it is retried; your work is saved on this device'}`;
    default:
      return status;
  }
}

/** What the indicator follows, by the package's rule (see the top). */
let seen = IDLE;

/** Hands an edit to the store's write-through auto-save. */
export function queueSave(input) {
  latest.set(input.id, input);
  if (state.store) {
    state.store.autosave(input);
  } else {
    early.set(input.id, input);
    setIndicator('pending', 'Unsaved changes…');
  }
}

/** Saves a snapshot now; resolves whether it was stored. */
export async function saveNow(input) {
  latest.set(input.id, input);
  if (!state.store) return false;
  try {
    return (await state.store.save(input)).stored;
  } catch {
    return false; // the indicator already says why
  }
}

/** Once the store is open: listen to it, and hand over what was typed before. */
export function attachStore(store) {
  store.onStatus(onStatus);
  for (const input of early.values()) store.autosave(input);
  early.clear();
}

/** Who is told of audio removed to make room; saving does not know takes, takes know saving. */
export function onAudioEvicted(listener) {
  onEvicted = listener;
}

/** Stores an audio part; resolves whether it was stored. A failure shows on the indicator. */
export async function storeChunk(id, index, bytes) {
  const { store } = state;
  if (!store) return false;
  try {
    const result = await store.appendChunk(id, index, bytes, 'audio/wav');
    chunkStored(result.stored, result.evicted.length > 0);
    return result.stored;
  } catch (e) {
    setIndicator('error', `Audio part not saved: ${errorText(e)}`);
    return false;
  }
}

/** A part of audio could not be stored, or could again (without evicting anything). */
function chunkStored(stored, evicted) {
  if (stored && !evicted && storageFull) {
    storageFull = false;
    setIndicator('saved', SAVED);
  } else if (!stored && !storageFull) {
    storageFull = true;
    setIndicator('quota', 'Storage full — this audio part is not saved on this device. TTS goes on.');
  }
}

function onStatus(event) {
  const { status, sessionIds, message, evicted } = event;
  emit('status', { status, sessionIds, message, evicted });
  const next = nextStatus(seen, event);
  if (next) seen = next;
  if (status === 'saved') {
    for (const id of sessionIds) {
      const input = latest.get(id);
      if (input) emit('committed', { kind: 'session', id, text: input.text, voiceId: input.voiceId, params: input.params });
    }
  }
  if (status === 'quota') {
    storageFull = true;
    const dropped = evicted?.length ? ` Audio of ${evicted.length} older take(s) was removed.` : '';
    setIndicator('quota', `Storage full — ${message ?? 'audio is not being saved'}.${dropped} TTS goes on.`);
    for (const id of evicted ?? []) onEvicted(id);
  } else if (status === 'conflict') {
    ui.status.textContent = message ?? 'Another tab changed this session; both versions were kept.';
  } else if (next && (!storageFull || next.status === 'pending' || next.status === 'error')) {
    // While storage is full the indicator keeps saying so: a part is not saved on this device.
    setIndicator(next.status, words(next));
  }
}
