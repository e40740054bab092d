// Takes and their audio parts: what the page shows, plays, and stores as parts arrive.
import { concatWav, sha256, wavDuration } from './tts.js';
import { onAudioEvicted, storeChunk } from './saving.js';
import { $, emit, excerpt, plural, state, takes, ui, voiceName } from './ui.js';

export function takeFrom(id, snap, parts) {
  const take = {
    id,
    text: snap.text,
    voiceId: snap.voiceId,
    settings: { ...snap.settings },
    parts,
    chunks: new Map(),
    serverToken: null,
    note: '',
    el: null,
  };
  takes.set(id, take);
  renderTake(take);
  return take;
}

/** Forgets a take (it is about to be replaced by a restored one). */
export function dropTake(id) {
  takes.get(id)?.el?.remove();
  takes.delete(id);
}

export const firstMissing = (take) => {
  for (let i = 0; i < take.parts; i++) if (!take.chunks.has(i)) return i;
  return take.parts;
};

/** The parts of a take as the tests read them. */
export const chunkList = (take) =>
  [...(take?.chunks.values() ?? [])].map(({ index, sha, bytes }) => ({ index, sha256: sha, bytes: bytes.byteLength }));

/**
 * Shows an audio part, and (for generated audio) stores it. Hashing and storing run beside the
 * generation, never in its way; TTS never waits on a full disk.
 */
export async function addChunk(take, index, bytes, { store: persist, after = Promise.resolve() }) {
  const chunk = { index, bytes, sha: null, stored: persist ? null : true };
  take.chunks.set(index, chunk);
  renderTake(take);
  // Stored once `after` (the take's own commit) has settled: a part never precedes its session.
  const stored = persist ? after.then(() => storeChunk(take.id, index, bytes)) : Promise.resolve(true);
  const [sha, ok] = await Promise.all([sha256(bytes), stored]);
  chunk.sha = sha;
  chunk.stored = ok;
  if (ok && persist) {
    emit('committed', { kind: 'chunk', id: take.id, index, bytes: bytes.byteLength, sha256: sha });
  }
  renderTake(take);
  return chunk;
}

onAudioEvicted(markEvicted);

function markEvicted(id) {
  const take = takes.get(id);
  if (!take) return;
  take.note = 'audio removed from this device to make room';
  for (const c of take.chunks.values()) c.stored = false;
  renderTake(take);
}

let playerUrl = null;
export function play(bytes) {
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
  ui.player.src = playerUrl;
  ui.player.play().catch(() => {
    // Autoplay refused: the controls are there.
  });
}

export function playTake(take) {
  const parts = [...take.chunks.values()].sort((a, b) => a.index - b.index).map((c) => c.bytes);
  if (parts.length) play(concatWav(parts));
}

/** Hooks the take's Resume button up (set by the generation module, which owns resuming). */
export const actions = { resume: () => {} };

export function renderTake(take) {
  if (!take.el) {
    take.el = document.getElementById('take').content.firstElementChild.cloneNode(true);
    take.el.dataset.sessionId = take.id;
    $('take-play', take.el).addEventListener('click', () => playTake(take));
    $('take-resume', take.el).addEventListener('click', () => actions.resume(take));
    ui.takes.prepend(take.el);
    ui.takesEmpty.hidden = true;
  }
  const el = take.el;
  el.querySelector('.take-text').textContent = take.text ? excerpt(take.text, 140) : 'Audio recovered from the server';
  const have = take.chunks.size;
  const total = take.parts ?? have;
  const busy = state.generating?.take === take;
  const status = busy ? 'generating' : have >= total ? 'complete' : 'incomplete';
  el.dataset.state = status;
  el.dataset.parts = String(total);
  const bits = [`${have} of ${plural(total, 'part')}`, voiceName(take.voiceId)];
  if (take.serverToken) bits.push('backed up on the server');
  if (take.note) bits.push(take.note);
  el.querySelector('.take-meta').textContent = bits.join(' · ');
  const resume = $('take-resume', el);
  resume.hidden = status !== 'incomplete' || !take.parts;
  resume.disabled = Boolean(state.generating);
  resume.textContent = `Resume from part ${firstMissing(take) + 1}`;

  const list = el.querySelector('.chunks');
  const chunks = [...take.chunks.values()].sort((a, b) => a.index - b.index);
  list.replaceChildren(...chunks.map((c) => chunkItem(take, c)));
}

function chunkItem(take, c) {
  const li = document.createElement('li');
  li.dataset.testid = 'audio-chunk';
  li.dataset.sessionId = take.id;
  li.dataset.index = String(c.index);
  li.dataset.bytes = String(c.bytes.byteLength);
  li.dataset.sha256 = c.sha ?? '';
  li.dataset.stored = String(c.stored);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'chunk-play';
  button.textContent = `▶ Part ${c.index + 1}`;
  button.addEventListener('click', () => play(c.bytes));
  const info = document.createElement('span');
  info.className = 'chunk-info';
  const where = c.stored === null ? 'saving…' : c.stored ? 'saved on this device' : 'not saved on this device';
  info.textContent = `${wavDuration(c.bytes).toFixed(1)} s · ${where}`;
  li.append(button, info);
  return li;
}
