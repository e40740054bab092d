// Generation, as client/demo/generate.js: one request per part, resumable at the first missing
// part, and the speech endpoint it talks to.
import { emit, queued } from './announce';
import { addChunk, firstMissing, playTake } from './audio';
import { newId, putTake, sameContent, updateTake, useStudio, type Params, type Settings } from './studio';
import { speak, splitText } from './tts';
import { errorText, get, query, statusLine } from './ui';

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
  // The take (its text, settings and number of parts) is committed beside its first speech
  // request, not before it: the person waits for the audio, not for the write. The slice orders
  // the rest after it (`appendPart` in audio.ts and `completeTake` wait for the take's start). The
  // take's own snapshot, not the editor's: a resumed take need not be the one the editor shows.
  const snapshot = { text: initial.text, voiceId: initial.voiceId, params: paramsOf(initial.settings, segments.length) };
  queued({ id, ...snapshot });
  void useStudio.recovery.startTake({ id, snapshot }).catch(() => undefined); // the indicator already says why
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
    await useStudio.recovery.completeTake(id).catch(() => undefined);
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
