// Generation: the text is spoken part by part, one request each. Storing and hashing a part run
// beside the requests, never between them: part N+1 is requested while part N is written.
import { readEditor, sameContent, sessionInput } from './editor.js';
import { saveNow } from './saving.js';
import { actions, addChunk, firstMissing, playTake, renderTake, takeFrom } from './takes.js';
import { speak, splitText } from './tts.js';
import { $, emit, errorText, newId, plural, state, takes, ui } from './ui.js';

/** Where speech is requested: the endpoint field, else this origin's dev endpoint. */
function ttsUrl() {
  return ui.endpoint.value.trim() || new URL('/v1/audio/speech', location.href).href;
}

export function showGenerateButton() {
  const take = takes.get(state.currentId);
  const resumable = take && take.chunks.size < take.parts && sameContent(take, readEditor());
  const busy = Boolean(state.generating);
  ui.generate.disabled = busy;
  ui.generate.textContent = busy
    ? 'Generating…'
    : resumable
      ? `Resume from part ${firstMissing(take) + 1}`
      : 'Generate';
  for (const t of takes.values()) if (t.el) $('take-resume', t.el).disabled = busy;
}

export async function generate() {
  if (state.generating) return;
  const snap = readEditor();
  const segments = splitText(snap.text);
  if (!segments.length) {
    ui.status.textContent = 'Type some text first.';
    return;
  }
  let take = takes.get(state.currentId);
  // Same text, parts missing: carry on where it stopped. Otherwise a new take.
  if (take && (!sameContent(take, snap) || take.chunks.size >= take.parts)) {
    state.currentId = newId();
    take = null;
  }
  take ??= takeFrom(state.currentId, snap, segments.length);
  await runTake(take);
}

function request(take, input) {
  return {
    model: 'chatterbox',
    input,
    voice: take.voiceId,
    response_format: 'wav',
    exaggeration: take.settings.exaggeration,
    cfg_weight: take.settings.cfgWeight,
    temperature: take.settings.temperature,
    seed: take.settings.seed,
  };
}

/** Generates the parts of `take` that are missing, in order, one request each. */
export async function runTake(take) {
  if (state.generating) return;
  const segments = splitText(take.text);
  take.parts = segments.length;
  const controller = new AbortController();
  state.generating = { take, controller };
  showGenerateButton();
  take.note = '';
  renderTake(take);
  // The take (its text, settings and number of parts) is committed beside its first speech
  // request, not before it: the person waits for the audio, not for the write. Each part is
  // stored only after this commit, so a session with audio always has its text, voice and params.
  const committed = saveNow(sessionInput(take.id, take, take.parts));
  const from = firstMissing(take);
  emit('generation', { phase: 'start', id: take.id, from, parts: take.parts });
  /** Parts being hashed and stored while the next is generated. */
  const writes = [];
  let index = from;
  try {
    for (; index < take.parts; index++) {
      if (take.chunks.has(index)) continue;
      ui.status.textContent = `Generating part ${index + 1} of ${take.parts}…`;
      emit('tts', { phase: 'start', id: take.id, index, input: segments[index] });
      const part = index;
      const bytes = await speak(ttsUrl(), request(take, segments[index]), {
        signal: controller.signal,
        onProgress: (received, expected) => {
          const pct = expected ? ` (${Math.round((100 * received) / expected)} %)` : '';
          ui.status.textContent = `Generating part ${part + 1} of ${take.parts}…${pct}`;
          emit('tts', { phase: 'progress', id: take.id, index: part, received, expected });
        },
      });
      emit('tts', { phase: 'done', id: take.id, index, bytes: bytes.byteLength });
      writes.push(addChunk(take, index, bytes, { store: true, after: committed }));
    }
    // Every part is here: the take plays now. Storing the last parts goes on beside it (storage
    // never holds up generation), and `stored` follows once every part is hashed and committed.
    ui.status.textContent = `Done: ${plural(take.parts, 'part')}.`;
    emit('generation', { phase: 'done', id: take.id, parts: take.parts });
    playTake(take);
    await Promise.allSettled([committed, ...writes]);
    if (state.store) await state.store.complete(take.id).catch(() => {});
    emit('generation', { phase: 'stored', id: take.id, parts: take.parts });
  } catch (e) {
    await Promise.allSettled([committed, ...writes]);
    take.note = `stopped at part ${index + 1}`;
    ui.status.textContent = `The TTS endpoint failed at part ${index + 1}: ${errorText(e)}. ` +
      `${take.chunks.size} part${take.chunks.size === 1 ? ' is' : 's are'} kept; generate again to resume.`;
    emit('generation', { phase: 'interrupted', id: take.id, index, message: errorText(e) });
  } finally {
    state.generating = null;
    renderTake(take);
    showGenerateButton();
  }
}

actions.resume = runTake;
