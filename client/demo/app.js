// The demo: a small TTS page that uses the recovery client the way an app would. Every state
// change is also announced as a `demo:*` event on `window` (see README, "Demo"), which is what
// the end-to-end tests listen to.
import { openRecoveryStore } from '/client/js/index.js';
import { concatWav, sha256, speak, splitText, wavDuration } from './tts.js';

const $ = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
const query = new URLSearchParams(location.search);

const ui = {
  text: $('tts-text'),
  voice: $('tts-voice'),
  seed: $('tts-seed'),
  exaggeration: $('tts-exaggeration'),
  cfgWeight: $('tts-cfg-weight'),
  temperature: $('tts-temperature'),
  generate: $('tts-generate'),
  status: $('tts-status'),
  endpoint: $('tts-endpoint'),
  player: $('tts-player'),
  takes: $('takes'),
  takesEmpty: $('takes-empty'),
  indicator: $('autosave-indicator'),
  banner: $('recovery-banner'),
  open: $('recovery-open'),
  modal: $('recovery-modal'),
  items: $('recovery-items'),
  backup: $('server-backup'),
  token: $('server-token'),
  recover: $('server-recover'),
  progress: $('recovery-progress'),
  message: $('server-message'),
};
const SETTINGS = ['exaggeration', 'cfgWeight', 'temperature'];

/** Announces a state change: `demo:${name}` on window. */
function emit(name, detail = {}) {
  window.dispatchEvent(new CustomEvent(`demo:${name}`, { detail }));
}

const newId = () => crypto.randomUUID();
const errorText = (e) => (e instanceof Error ? e.message : String(e));

/** @type {import('../js/index.js').RecoveryStore | null} */
let store = null;
/** The session the editor writes to. */
let currentId = newId();
/** Takes by session id: text and settings they were made with, and their audio parts. */
const takes = new Map();
/** The generation in progress, if any. */
let generating = null;

// ---- editor ---------------------------------------------------------------------------------

function readEditor() {
  const settings = Object.fromEntries(SETTINGS.map((k) => [k, Number(ui[k].value)]));
  settings.seed = Math.max(0, Math.trunc(Number(ui.seed.value) || 0));
  return { text: ui.text.value, voiceId: ui.voice.value, settings };
}

function writeEditor({ text, voiceId, params }) {
  ui.text.value = text ?? '';
  if (voiceId && [...ui.voice.options].some((o) => o.value === voiceId)) ui.voice.value = voiceId;
  for (const k of SETTINGS) if (typeof params?.[k] === 'number') ui[k].value = String(params[k]);
  if (typeof params?.seed === 'number') ui.seed.value = String(params.seed);
  showSettings();
}

function showSettings() {
  for (const k of SETTINGS) {
    document.querySelector(`output[data-for="${k}"]`).value = Number(ui[k].value).toFixed(2);
  }
}

const sameSettings = (a, b) => [...SETTINGS, 'seed'].every((k) => a[k] === b[k]);
const sameContent = (take, snap) =>
  take.text === snap.text && take.voiceId === snap.voiceId && sameSettings(take.settings, snap.settings);

/** What the store keeps for a session: `params` holds the settings and, for a take, its parts. */
function sessionInput(id, { text, voiceId, settings }, parts = null) {
  return { id, text, voiceId, params: parts == null ? { ...settings } : { ...settings, parts } };
}

function onEdit() {
  showSettings();
  const snap = readEditor();
  const take = takes.get(currentId);
  // A take's audio belongs to the text it was made from: editing after it starts a new session.
  if (take && !sameContent(take, snap)) currentId = newId();
  queueSave(sessionInput(currentId, snap));
  showGenerateButton();
}

// ---- saving and the indicator ---------------------------------------------------------------

/**
 * Which snapshot a `saved` event stands for. The store writes the latest snapshot queued for a
 * session when it emits `saving`, and commits writes in order, so pairing each `saved` with the
 * oldest unpaired `saving` never claims more than was committed (after a failed write it claims
 * less, which is safe).
 */
const ledger = { queued: new Map(), inflight: new Map(), chunkWrites: new Map(), last: null };
let storageFull = false;

function queueSave(input) {
  ledger.queued.set(input.id, input);
  store?.autosave(input);
}

async function saveNow(input) {
  ledger.queued.set(input.id, input);
  if (!store) return false;
  try {
    return (await store.save(input)).stored;
  } catch {
    return false; // the indicator already says why
  }
}

function setIndicator(state, label) {
  ui.indicator.dataset.state = state;
  ui.indicator.querySelector('.label').textContent = label;
  ui.indicator.title = label;
  emit('indicator', { state, label });
}

function onStatus({ status, sessionIds, message, evicted }) {
  const previous = ledger.last;
  ledger.last = { status, sessionIds };
  emit('status', { status, sessionIds, message, evicted });
  if (status === 'saving') {
    for (const id of sessionIds) {
      const list = ledger.inflight.get(id) ?? [];
      list.push(ledger.queued.get(id));
      ledger.inflight.set(id, list);
    }
    if (!storageFull) setIndicator('saving', 'Saving…');
  } else if (status === 'saved') {
    for (const id of sessionIds) {
      // After a full disk, a chunk write that succeeded by evicting reports quota then saved:
      // that saved is not a snapshot's.
      const fromChunk = previous?.status === 'quota' && ledger.chunkWrites.get(id) > 0;
      const input = fromChunk ? undefined : ledger.inflight.get(id)?.shift();
      if (input) emit('committed', { kind: 'session', id, text: input.text, voiceId: input.voiceId, params: input.params });
    }
    if (!storageFull) setIndicator('saved', 'All changes saved');
  } else if (status === 'error') {
    setIndicator('error', `Not saved: ${message ?? 'storage error'}`);
  } else if (status === 'quota') {
    storageFull = true;
    const dropped = evicted?.length ? ` Audio of ${evicted.length} older take(s) was removed.` : '';
    setIndicator('quota', `Storage full — ${message ?? 'audio is not being saved'}.${dropped} TTS goes on.`);
    for (const id of evicted ?? []) markEvicted(id);
  } else if (status === 'conflict') {
    ui.status.textContent = message ?? 'Another tab changed this session; both versions were kept.';
  }
}

// ---- takes and audio parts ------------------------------------------------------------------

function takeFrom(id, snap, parts) {
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

const firstMissing = (take) => {
  for (let i = 0; i < take.parts; i++) if (!take.chunks.has(i)) return i;
  return take.parts;
};

/** Shows an audio part, and (for generated audio) stores it. TTS never waits on a full disk. */
async function addChunk(take, index, bytes, { store: persist }) {
  const chunk = { index, bytes, sha: await sha256(bytes), stored: persist ? null : true };
  take.chunks.set(index, chunk);
  renderTake(take);
  if (!persist) return chunk;
  if (!store) {
    chunk.stored = false;
  } else {
    ledger.chunkWrites.set(take.id, (ledger.chunkWrites.get(take.id) ?? 0) + 1);
    try {
      const result = await store.appendChunk(take.id, index, bytes, 'audio/wav');
      chunk.stored = result.stored;
      if (result.stored && !result.evicted.length && storageFull) {
        storageFull = false;
        setIndicator('saved', 'All changes saved');
      }
      if (!result.stored && !storageFull) {
        storageFull = true;
        setIndicator('quota', 'Storage full — this audio part is not saved on this device. TTS goes on.');
      }
    } catch (e) {
      chunk.stored = false;
      setIndicator('error', `Audio part not saved: ${errorText(e)}`);
    } finally {
      ledger.chunkWrites.set(take.id, ledger.chunkWrites.get(take.id) - 1);
    }
  }
  if (chunk.stored) {
    emit('committed', { kind: 'chunk', id: take.id, index, bytes: bytes.byteLength, sha256: chunk.sha });
  }
  renderTake(take);
  return chunk;
}

function markEvicted(id) {
  const take = takes.get(id);
  if (!take) return;
  take.note = 'audio removed from this device to make room';
  for (const c of take.chunks.values()) c.stored = false;
  renderTake(take);
}

let playerUrl = null;
function play(bytes) {
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
  ui.player.src = playerUrl;
  ui.player.play().catch(() => {
    // Autoplay refused: the controls are there.
  });
}

function playTake(take) {
  const parts = [...take.chunks.values()].sort((a, b) => a.index - b.index).map((c) => c.bytes);
  if (parts.length) play(concatWav(parts));
}

function renderTake(take) {
  if (!take.el) {
    take.el = document.getElementById('take').content.firstElementChild.cloneNode(true);
    take.el.dataset.sessionId = take.id;
    $('take-play', take.el).addEventListener('click', () => playTake(take));
    $('take-resume', take.el).addEventListener('click', () => runTake(take));
    ui.takes.prepend(take.el);
    ui.takesEmpty.hidden = true;
  }
  const el = take.el;
  el.querySelector('.take-text').textContent = take.text ? excerpt(take.text, 140) : 'Audio recovered from the server';
  const have = take.chunks.size;
  const total = take.parts ?? have;
  const busy = generating?.take === take;
  const state = busy ? 'generating' : have >= total ? 'complete' : 'incomplete';
  el.dataset.state = state;
  el.dataset.parts = String(total);
  const bits = [`${have} of ${total} part${total === 1 ? '' : 's'}`, voiceName(take.voiceId)];
  if (take.serverToken) bits.push('backed up on the server');
  if (take.note) bits.push(take.note);
  el.querySelector('.take-meta').textContent = bits.join(' · ');
  const resume = $('take-resume', el);
  resume.hidden = state !== 'incomplete' || !take.parts;
  resume.disabled = Boolean(generating);
  resume.textContent = `Resume from part ${firstMissing(take) + 1}`;

  const list = el.querySelector('.chunks');
  const chunks = [...take.chunks.values()].sort((a, b) => a.index - b.index);
  list.replaceChildren(
    ...chunks.map((c) => {
      const li = document.createElement('li');
      li.dataset.testid = 'audio-chunk';
      li.dataset.sessionId = take.id;
      li.dataset.index = String(c.index);
      li.dataset.bytes = String(c.bytes.byteLength);
      li.dataset.sha256 = c.sha;
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
    }),
  );
}

const voiceName = (id) => [...ui.voice.options].find((o) => o.value === id)?.textContent ?? id ?? 'unknown voice';
const excerpt = (text, n) => (text.length > n ? `${text.slice(0, n - 1).trimEnd()}…` : text);

// ---- generation -----------------------------------------------------------------------------

function ttsUrl() {
  return ui.endpoint.value.trim() || new URL('/v1/audio/speech', location.href).href;
}

function showGenerateButton() {
  const take = takes.get(currentId);
  const resumable = take && take.chunks.size < take.parts && sameContent(take, readEditor());
  ui.generate.disabled = Boolean(generating);
  ui.generate.textContent = generating
    ? 'Generating…'
    : resumable
      ? `Resume from part ${firstMissing(take) + 1}`
      : 'Generate';
  for (const t of takes.values()) if (t.el) $('take-resume', t.el).disabled = Boolean(generating);
}

async function generate() {
  if (generating) return;
  const snap = readEditor();
  const segments = splitText(snap.text);
  if (!segments.length) {
    ui.status.textContent = 'Type some text first.';
    return;
  }
  let take = takes.get(currentId);
  // Same text, parts missing: carry on where it stopped. Otherwise a new take.
  if (take && (!sameContent(take, snap) || take.chunks.size >= take.parts)) {
    currentId = newId();
    take = null;
  }
  take ??= takeFrom(currentId, snap, segments.length);
  await runTake(take);
}

/** Generates the parts of `take` that are missing, in order, one request each. */
async function runTake(take) {
  if (generating) return;
  const segments = splitText(take.text);
  take.parts = segments.length;
  const controller = new AbortController();
  generating = { take, controller };
  showGenerateButton();
  take.note = '';
  renderTake(take);
  // The take (its text, settings and number of parts) is committed before its first audio.
  await saveNow(sessionInput(take.id, take, take.parts));
  const from = firstMissing(take);
  emit('generation', { phase: 'start', id: take.id, from, parts: take.parts });
  let index = from;
  try {
    for (; index < take.parts; index++) {
      if (take.chunks.has(index)) continue;
      ui.status.textContent = `Generating part ${index + 1} of ${take.parts}…`;
      emit('tts', { phase: 'start', id: take.id, index, input: segments[index] });
      const request = {
        model: 'chatterbox',
        input: segments[index],
        voice: take.voiceId,
        response_format: 'wav',
        exaggeration: take.settings.exaggeration,
        cfg_weight: take.settings.cfgWeight,
        temperature: take.settings.temperature,
        seed: take.settings.seed,
      };
      const bytes = await speak(ttsUrl(), request, {
        signal: controller.signal,
        onProgress: (received, expected) => {
          const pct = expected ? ` (${Math.round((100 * received) / expected)} %)` : '';
          ui.status.textContent = `Generating part ${index + 1} of ${take.parts}…${pct}`;
          emit('tts', { phase: 'progress', id: take.id, index, received, expected });
        },
      });
      emit('tts', { phase: 'done', id: take.id, index, bytes: bytes.byteLength });
      await addChunk(take, index, bytes, { store: true });
    }
    if (store) await store.complete(take.id).catch(() => {});
    ui.status.textContent = `Done: ${take.parts} part${take.parts === 1 ? '' : 's'}.`;
    emit('generation', { phase: 'done', id: take.id, parts: take.parts });
    playTake(take);
  } catch (e) {
    take.note = `stopped at part ${index + 1}`;
    ui.status.textContent = `The TTS endpoint failed at part ${index + 1}: ${errorText(e)}. ` +
      `${take.chunks.size} part${take.chunks.size === 1 ? ' is' : 's are'} kept; generate again to resume.`;
    emit('generation', { phase: 'interrupted', id: take.id, index, message: errorText(e) });
  } finally {
    generating = null;
    renderTake(take);
    showGenerateButton();
  }
}

// ---- recovery: banner and modal -------------------------------------------------------------

const offered = new Map();

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function renderRecovery() {
  const sessions = [...offered.values()];
  const count = sessions.length;
  if (!count) {
    ui.banner.hidden = true;
    if (ui.modal.open) ui.modal.close();
  } else {
    const parts = sessions.reduce((n, s) => n + s.chunkCount, 0);
    ui.banner.querySelector('.banner-detail').textContent =
      `${count} session${count === 1 ? '' : 's'} ended without being closed. ` +
      `Text, voice, settings${parts ? ` and ${parts} audio part${parts === 1 ? '' : 's'}` : ''} can be restored.`;
    if (ui.banner.hidden) {
      ui.banner.hidden = false;
      ui.banner.dataset.shownAt = String(performance.now());
    }
  }
  ui.items.replaceChildren(
    ...sessions.map((s) => {
      const li = document.getElementById('recovery-item').content.firstElementChild.cloneNode(true);
      li.dataset.sessionId = s.id;
      li.dataset.chunkCount = String(s.chunkCount);
      li.dataset.serverCopy = String(Boolean(s.serverToken));
      li.querySelector('.excerpt').textContent = s.text ? excerpt(s.text, 120) : '(no text)';
      li.querySelector('.age').textContent = age(s.updatedAt);
      li.querySelector('.voice').textContent = voiceName(s.voiceId);
      const parts = s.params?.parts;
      li.querySelector('.parts').textContent =
        `${s.chunkCount}${parts ? ` of ${parts}` : ''} audio part${(parts ?? s.chunkCount) === 1 ? '' : 's'}` +
        (s.audioEvicted ? ' (audio removed when storage was full)' : '');
      li.querySelector('.copy').textContent = s.serverToken ? 'server copy kept' : 'no server copy';
      $('recovery-restore', li).addEventListener('click', () => restore(s.id, li));
      $('recovery-dismiss', li).addEventListener('click', () => dismiss(s.id, li));
      return li;
    }),
  );
}

async function restore(id, li) {
  li.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    const session = await store.restore(id);
    offered.delete(id);
    if (session) {
      writeEditor(session);
      currentId = id;
      const snap = readEditor();
      const parts = session.params?.parts ?? null;
      takes.get(id)?.el?.remove();
      takes.delete(id);
      if (parts != null || session.chunks.length) {
        // The take's own text and settings, as stored: the editor now shows the same.
        const take = takeFrom(id, snap, parts ?? session.chunks.length);
        take.serverToken = session.serverToken;
        for (const c of session.chunks) await addChunk(take, c.index, c.bytes, { store: false });
        if (session.audioEvicted) take.note = 'audio was removed from this device when storage was full';
        renderTake(take);
      }
      // Claims the session for this tab: it is no longer a crashed tab's.
      await saveNow(sessionInput(id, snap, parts));
      const chunks = [...(takes.get(id)?.chunks.values() ?? [])].map(({ index, sha, bytes }) => ({
        index,
        sha256: sha,
        bytes: bytes.byteLength,
      }));
      emit('restored', { id, text: session.text, voiceId: session.voiceId, params: session.params, chunks });
    }
  } catch (e) {
    ui.status.textContent = `Could not restore: ${errorText(e)}`;
  }
  renderRecovery();
  showGenerateButton();
}

async function dismiss(id, li) {
  li.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    await store.dismiss(id);
    offered.delete(id);
    emit('dismissed', { id });
  } catch (e) {
    ui.status.textContent = `Could not dismiss: ${errorText(e)}`;
  }
  renderRecovery();
}

// ---- server copy ----------------------------------------------------------------------------

function showProgress({ phase, loaded, total }) {
  ui.progress.hidden = false;
  if (total > 0) ui.progress.value = Math.min(1, loaded / total);
  else ui.progress.removeAttribute('value');
  ui.progress.dataset.phase = phase;
  emit('progress', { phase, loaded, total });
}

function say(text, outcome) {
  ui.message.textContent = text;
  ui.message.dataset.outcome = outcome;
}

async function backup() {
  const current = takes.get(currentId);
  const take = current?.chunks.size ? current : [...takes.values()].reverse().find((t) => t.chunks.size);
  if (!take) return say('Generate a take first: there is no audio to back up.', 'nothing');
  if (!store) return say('Local storage is unavailable, so there is nothing to back up.', 'error');
  ui.backup.disabled = true;
  const ttl = Number(query.get('backup_ttl'));
  try {
    const result = await store.backup(take.id, {
      ttlSeconds: ttl > 0 ? ttl : undefined,
      filename: `chatterbox-take-${take.id.slice(0, 8)}.wav`,
      onProgress: showProgress,
    });
    take.serverToken = result.token;
    renderTake(take);
    ui.token.value = result.token;
    ui.token.textContent = result.token;
    const until = new Date(Number(result.expiresAt) * 1000 || result.expiresAt);
    say(`Backed up ${Math.round(result.bytes / 1024)} KB. Keep the token: it recovers this audio on any ` +
      `browser until ${until.toLocaleString()}.`, 'backed-up');
    emit('backup', { id: take.id, token: result.token, expiresAt: result.expiresAt, bytes: result.bytes });
  } catch (e) {
    say(`Backup failed: ${errorText(e)}`, 'error');
  } finally {
    ui.backup.disabled = false;
  }
}

async function recoverByToken(token) {
  if (!store) return say('Local storage is unavailable here.', 'error');
  const known = [...takes.values()].find((t) => t.serverToken === token);
  const id = known?.id ?? newId();
  const button = ui.recover.querySelector('button');
  button.disabled = true;
  say('Recovering…', 'working');
  try {
    const result = await store.recover(id, { token, onProgress: showProgress });
    if (result.audio === 'restored' && result.session) {
      const s = result.session;
      takes.get(id)?.el?.remove();
      takes.delete(id);
      const take = takeFrom(id, { text: s.text, voiceId: s.voiceId, settings: { ...(s.params ?? {}) } },
        s.params?.parts ?? s.chunks.length);
      take.serverToken = token;
      for (const c of s.chunks) await addChunk(take, c.index, c.bytes, { store: false });
      const bytes = s.chunks.reduce((n, c) => n + c.bytes.byteLength, 0);
      say(`Recovered ${s.chunks.length} audio part${s.chunks.length === 1 ? '' : 's'} ` +
        `(${Math.round(bytes / 1024)} KB) from the server.`, 'restored');
      playTake(take);
    } else if (result.audio === 'expired') {
      say('The audio for this token has expired: server copies are kept for 24 hours. ' +
        'Text and settings saved on this browser are not affected.', 'expired');
    } else if (result.audio === 'not-found') {
      say('There is no audio for this token: it was dismissed, or never existed.', 'not-found');
    } else {
      say('The audio was downloaded, but this device has no room to keep it.', 'storage-full');
    }
    emit('recovered', {
      id,
      audio: result.audio,
      chunks: [...(takes.get(id)?.chunks.values() ?? [])].map(({ index, sha, bytes }) => ({
        index,
        sha256: sha,
        bytes: bytes.byteLength,
      })),
    });
  } catch (e) {
    say(`Recovery failed: ${errorText(e)}`, 'error');
    emit('recovered', { id, audio: 'error', message: errorText(e) });
  } finally {
    button.disabled = false;
  }
}

// ---- start ----------------------------------------------------------------------------------

function reveal() {
  document.documentElement.classList.remove('booting');
  document.documentElement.dataset.revealedAt = String(performance.now());
}

async function boot() {
  ui.endpoint.value = query.get('tts') ?? new URL('/v1/audio/speech', location.href).href;
  showSettings();
  for (const el of [ui.text, ui.voice, ui.seed, ...SETTINGS.map((k) => ui[k])]) {
    el.addEventListener('input', onEdit);
  }
  ui.generate.addEventListener('click', generate);
  $('tts-new').addEventListener('click', () => {
    // A new session; the one being edited stays saved as it is.
    currentId = newId();
    ui.text.value = '';
    showGenerateButton();
    ui.text.focus();
  });
  ui.open.addEventListener('click', () => ui.modal.showModal());
  ui.backup.addEventListener('click', backup);
  ui.recover.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = new FormData(ui.recover).get('token')?.toString().trim();
    if (token) recoverByToken(token);
  });
  let crashed = [];
  try {
    store = await openRecoveryStore({ apiBaseUrl: location.origin });
    store.onStatus(onStatus);
    crashed = await store.detect();
    for (const s of crashed) offered.set(s.id, s);
    renderRecovery();
  } catch (e) {
    setIndicator('error', `Local saving is unavailable: ${errorText(e)}`);
  }
  reveal();
  showGenerateButton();
  document.documentElement.dataset.ready = 'true';
  emit('ready', { crashed: crashed.map((s) => s.id), tabId: store?.tabId ?? null });
}

window.chatterboxDemo = {
  get store() {
    return store;
  },
  takes,
  get currentId() {
    return currentId;
  },
};

boot();
