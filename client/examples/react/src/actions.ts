// What the buttons do: generate a take part by part, restore or dismiss a crashed session, back a
// take up to the server and recover one by token. State lives in the Zustand store; the
// recovery store is reached through the store's `recovery` API, never around it.
import type { RecoveredSession } from '@chatterbox/recovery-client/zustand';
import { emit, queued } from './announce';
import { concatWav, sha256, speak, splitText } from './tts';
import {
  newId,
  putTake,
  sameContent,
  updateTake,
  useStudio,
  type Chunk,
  type Params,
  type Settings,
  type Take,
} from './studio';

const query = new URLSearchParams(location.search);

/** The speech endpoint the user typed in the TTS endpoint field, kept on this browser. */
const ENDPOINT_KEY = 'chatterbox-demo:tts-endpoint';
const ownEndpoint = (): string => new URL('/v1/audio/speech', location.href).href;

/**
 * The speech endpoint at start. A link's `?tts=` is taken only on this page's own origin, so a
 * crafted link cannot send what the user types to another server; another server is used only
 * when the user typed it in the TTS endpoint field (kept in localStorage), never from the URL.
 * Else this origin's dev endpoint.
 */
function endpointAtStart(): string {
  const asked = query.get('tts');
  if (asked) {
    let url: URL | null = null;
    try {
      url = new URL(asked, location.href);
    } catch {
      // not a URL: ignored below like any other
    }
    if (url && url.origin === location.origin) return url.href;
    queueMicrotask(() =>
      statusLine.set(
        `Ignored ?tts=${asked}: a link may only name this page's origin. ` +
          'To use another server, type its URL in the TTS endpoint field.',
      ));
  }
  try {
    return localStorage.getItem(ENDPOINT_KEY) || ownEndpoint();
  } catch {
    return ownEndpoint(); // no localStorage
  }
}

export const initialEndpoint = endpointAtStart();
let endpoint = initialEndpoint;
/** What the user typed in the endpoint field: used from now on and kept for the next visit. */
export const setEndpoint = (url: string): void => {
  const typed = url.trim();
  endpoint = typed || ownEndpoint();
  try {
    if (typed) localStorage.setItem(ENDPOINT_KEY, typed);
    else localStorage.removeItem(ENDPOINT_KEY);
  } catch {
    // no localStorage: used for this page only
  }
};

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const store = () => useStudio.recovery.getStore();
const get = () => useStudio.getState();

export const firstMissing = (take: Take): number => {
  for (let i = 0; i < take.parts; i++) if (!take.chunks.has(i)) return i;
  return take.parts;
};

// ---- status line, server message, progress ---------------------------------------------------

export interface ServerView {
  message: string;
  outcome: string | null;
  token: string;
  busy: boolean;
}

type Listener = () => void;
/** Small view state the Zustand store does not need to persist or share. */
function cell<T>(initial: T) {
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
export const statusLine = cell('');
export const server = cell<ServerView>({ message: '', outcome: null, token: '', busy: false });
const say = (message: string, outcome: string) => server.set({ ...server.get(), message, outcome });

// ---- audio -----------------------------------------------------------------------------------

let playerUrl: string | null = null;
export const player: { current: HTMLAudioElement | null } = { current: null };

export function play(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): void {
  const audio = player.current;
  if (!audio) return;
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
  audio.src = playerUrl;
  audio.play().catch(() => {
    // Autoplay refused: the controls are there.
  });
}

export function playTake(take: Take): void {
  const parts = [...take.chunks.values()].sort((a, b) => a.index - b.index).map((c) => c.bytes);
  if (parts.length) play(concatWav(parts));
}

function setChunk(id: string, chunk: Chunk): void {
  updateTake(id, (take) => ({ chunks: new Map(take.chunks).set(chunk.index, chunk) }));
}

/** Stores a part; resolves whether it was stored. TTS never waits on a full disk. */
async function storeChunk(id: string, index: number, bytes: ArrayBuffer): Promise<boolean> {
  const recoveryStore = store();
  if (!recoveryStore) return false;
  try {
    const result = await recoveryStore.appendChunk(id, index, bytes, 'audio/wav');
    const { storageFull } = get();
    if (result.stored && !result.evicted.length && storageFull) useStudio.setState({ storageFull: null });
    if (!result.stored && !storageFull) {
      useStudio.setState({ storageFull: 'this audio part is not saved on this device. TTS goes on.' });
    }
    return result.stored;
  } catch (e) {
    statusLine.set(`Audio part not saved: ${errorText(e)}`);
    return false;
  }
}

/**
 * Shows an audio part, and (for generated audio) stores it. Hashing and storing run beside the
 * generation, never in its way.
 */
async function addChunk(id: string, index: number, bytes: ArrayBuffer, persist: boolean): Promise<void> {
  setChunk(id, { index, bytes, sha: null, stored: persist ? null : true });
  const [sha, stored] = await Promise.all([sha256(bytes), persist ? storeChunk(id, index, bytes) : true]);
  setChunk(id, { index, bytes, sha, stored });
  if (stored && persist) emit('committed', { kind: 'chunk', id, index, bytes: bytes.byteLength, sha256: sha });
}

// ---- generation ------------------------------------------------------------------------------

export async function generate(): Promise<void> {
  const state = get();
  if (state.generating) return;
  const segments = splitText(state.text);
  if (!segments.length) {
    statusLine.set('Type some text first.');
    return;
  }
  let take = state.takes.get(state.sessionId);
  // Same text, parts missing: carry on where it stopped. Otherwise a new take.
  if (take && (!sameContent(take, state) || take.chunks.size >= take.parts)) take = undefined;
  if (!take) {
    // The editor's session has a take already (other content, or complete): a new session.
    const id = state.takes.has(state.sessionId) ? newId() : state.sessionId;
    take = {
      id,
      text: state.text,
      voiceId: state.voiceId,
      settings: { ...state.settings },
      parts: segments.length,
      chunks: new Map(),
      serverToken: null,
      note: '',
    };
    useStudio.setState({ sessionId: id });
    putTake(take);
  }
  await runTake(take.id);
}

const paramsOf = (settings: Settings, parts: number): Params => ({ ...settings, parts });

/** Generates the parts of a take that are missing, in order, one request each. */
export async function runTake(id: string): Promise<void> {
  if (get().generating) return;
  const initial = get().takes.get(id);
  if (!initial) return;
  const segments = splitText(initial.text);
  updateTake(id, () => ({ parts: segments.length, note: '' }));
  useStudio.setState({ generating: id });
  const take = () => get().takes.get(id) ?? initial;
  // The take (its text, settings and number of parts) is committed before its first audio.
  const input = { id, text: initial.text, voiceId: initial.voiceId, params: paramsOf(initial.settings, segments.length) };
  queued(input);
  await store()?.save(input).catch(() => undefined); // the indicator already says why
  const from = firstMissing(take());
  emit('generation', { phase: 'start', id, from, parts: segments.length });
  /** Parts being hashed and stored while the next is generated. */
  const writes: Promise<void>[] = [];
  let index = from;
  try {
    for (; index < segments.length; index++) {
      if (take().chunks.has(index)) continue;
      const part = index;
      statusLine.set(`Generating part ${part + 1} of ${segments.length}…`);
      emit('tts', { phase: 'start', id, index: part, input: segments[part] });
      const { settings, voiceId } = initial;
      const bytes = await speak(endpoint, {
        model: 'chatterbox',
        input: segments[part] ?? '',
        voice: voiceId,
        response_format: 'wav',
        exaggeration: settings.exaggeration,
        cfg_weight: settings.cfgWeight,
        temperature: settings.temperature,
        seed: settings.seed,
      }, {
        onProgress: (received, expected) => {
          const pct = expected ? ` (${Math.round((100 * received) / expected)} %)` : '';
          statusLine.set(`Generating part ${part + 1} of ${segments.length}…${pct}`);
          emit('tts', { phase: 'progress', id, index: part, received, expected });
        },
      });
      emit('tts', { phase: 'done', id, index: part, bytes: bytes.byteLength });
      writes.push(addChunk(id, part, bytes, true));
    }
    // Every part is here: the take plays now. Storing the last parts goes on beside it (storage
    // never holds up generation), and `stored` follows once every part is hashed and committed.
    statusLine.set(`Done: ${segments.length} part${segments.length === 1 ? '' : 's'}.`);
    emit('generation', { phase: 'done', id, parts: segments.length });
    playTake(take());
    await Promise.allSettled(writes);
    await store()?.complete(id).catch(() => undefined);
    emit('generation', { phase: 'stored', id, parts: segments.length });
  } catch (e) {
    await Promise.allSettled(writes);
    const kept = take().chunks.size;
    updateTake(id, () => ({ note: `stopped at part ${index + 1}` }));
    statusLine.set(`The TTS endpoint failed at part ${index + 1}: ${errorText(e)}. ` +
      `${kept} part${kept === 1 ? ' is' : 's are'} kept; generate again to resume.`);
    emit('generation', { phase: 'interrupted', id, index, message: errorText(e) });
  } finally {
    useStudio.setState({ generating: null });
  }
}

// ---- restore and dismiss ---------------------------------------------------------------------

/** Hashes and shows the audio of a session that came back; the parts are already stored. */
async function showChunks(session: RecoveredSession<Params>): Promise<{ index: number; sha256: string; bytes: number }[]> {
  await Promise.all(session.chunks.map((c) => addChunk(session.id, c.index, c.bytes, false)));
  return [...(get().takes.get(session.id)?.chunks.values() ?? [])].map(({ index, sha, bytes }) => ({
    index,
    sha256: sha ?? '',
    bytes: bytes.byteLength,
  }));
}

export async function restore(id: string): Promise<void> {
  try {
    const session = await get().recovery.restore(id);
    if (session) {
      const chunks = await showChunks(session);
      // The restored snapshot is autosaved, which claims the session for this tab.
      await useStudio.recovery.flush();
      emit('restored', { id, text: session.text, voiceId: session.voiceId, params: session.params, chunks });
    }
  } catch (e) {
    statusLine.set(`Could not restore: ${errorText(e)}`);
  }
}

export async function dismiss(id: string): Promise<void> {
  try {
    await get().recovery.dismiss(id);
    emit('dismissed', { id });
  } catch (e) {
    statusLine.set(`Could not dismiss: ${errorText(e)}`);
  }
}

// ---- server copy -----------------------------------------------------------------------------

export async function backup(): Promise<void> {
  const { takes, sessionId } = get();
  const current = takes.get(sessionId);
  const take = current?.chunks.size ? current : [...takes.values()].reverse().find((t) => t.chunks.size);
  if (!take) return say('Generate a take first: there is no audio to back up.', 'nothing');
  if (!store()) return say('Local storage is unavailable, so there is nothing to back up.', 'error');
  server.set({ ...server.get(), busy: true });
  const ttl = Number(query.get('backup_ttl'));
  try {
    const result = await get().recovery.backup({
      id: take.id,
      ttlSeconds: ttl > 0 ? ttl : undefined,
      filename: `chatterbox-take-${take.id.slice(0, 8)}.wav`,
      onProgress: (p) => emit('progress', { ...p }),
    });
    updateTake(take.id, () => ({ serverToken: result.token }));
    const until = new Date(Number(result.expiresAt) * 1000 || result.expiresAt);
    server.set({
      ...server.get(),
      token: result.token,
      message: `Backed up the take, its text and settings (${Math.round(result.bytes / 1024)} KB). Keep the ` +
        `token: it recovers them on any browser until ${until.toLocaleString()}.`,
      outcome: 'backed-up',
    });
    emit('backup', { id: take.id, token: result.token, expiresAt: result.expiresAt, bytes: result.bytes });
  } catch (e) {
    say(`Backup failed: ${errorText(e)}`, 'error');
  } finally {
    server.set({ ...server.get(), busy: false });
  }
}

export async function recoverByToken(token: string): Promise<void> {
  if (!store()) return say('Local storage is unavailable here.', 'error');
  // A take of this page with that token comes back under its own id; any other under the id
  // in the backup.
  const known = [...get().takes.values()].find((t) => t.serverToken === token);
  let id = known?.id ?? null;
  server.set({ ...server.get(), busy: true, message: 'Recovering…', outcome: 'working' });
  try {
    const result = await get().recovery.recover(token, { id, onProgress: (p) => emit('progress', { ...p }) });
    const session = result.session;
    id = session?.id ?? id;
    let chunks: { index: number; sha256: string; bytes: number }[] = [];
    if (result.audio === 'restored' && session) {
      updateTake(session.id, () => ({ serverToken: token }));
      chunks = await showChunks(session);
      const bytes = session.chunks.reduce((n, c) => n + c.bytes.byteLength, 0);
      const parts = session.chunks.length;
      say(`Recovered the text, settings and ${parts} audio part${parts === 1 ? '' : 's'} ` +
        `(${Math.round(bytes / 1024)} KB) from the server.`, 'restored');
      const take = get().takes.get(session.id);
      if (take) playTake(take);
    } else if (result.audio === 'expired') {
      say('The audio for this token has expired: server copies are kept for 24 hours. ' +
        'Text and settings saved on this browser are not affected.', 'expired');
    } else if (result.audio === 'not-found') {
      say('There is nothing for this token: it was dismissed, or never existed.', 'not-found');
    } else {
      say('The audio was downloaded, but this device has no room to keep it.', 'storage-full');
    }
    emit('recovered', {
      id,
      audio: result.audio,
      text: session?.text ?? null,
      voiceId: session?.voiceId ?? null,
      params: session?.params ?? null,
      chunks,
    });
  } catch (e) {
    say(`Recovery failed: ${errorText(e)}`, 'error');
    emit('recovered', { id, audio: 'error', message: errorText(e) });
  } finally {
    server.set({ ...server.get(), busy: false });
  }
}
