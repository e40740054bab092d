// Recovery on this browser: the banner (in the first paint when the localStorage hint allows),
// the modal listing what a crashed or killed tab left, restore and dismiss.
import { readEditor, sessionInput, writeEditor } from './editor.js';
import { showGenerateButton } from './generate.js';
import { saveNow, setWaiting } from './saving.js';
import { addChunk, chunkList, dropTake, renderTake, takeFrom } from './takes.js';
import { $, emit, errorText, excerpt, plural, state, takes, ui, voiceName } from './ui.js';

/** Sessions offered for recovery, by id. */
export const offered = new Map();

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/**
 * Shows the banner and the modal's list for what is offered. The page script in index.html may
 * have shown the banner already, from the hint ("Looking for unsaved work…"): then it stays, and
 * `shownAt` is when it appeared; with nothing to recover it goes.
 */
export function renderRecovery() {
  const root = document.documentElement;
  const hintedAt = root.dataset.recoveryHintAt;
  root.classList.remove('recovery-hinted');
  const sessions = [...offered.values()];
  const count = sessions.length;
  setWaiting(count);
  if (!count) {
    ui.banner.hidden = true;
    if (ui.modal.open) ui.modal.close();
  } else {
    const parts = sessions.reduce((n, s) => n + s.chunkCount, 0);
    ui.banner.querySelector('.banner-title').textContent = 'Unsaved work was found.';
    ui.banner.querySelector('.banner-detail').textContent =
      `${plural(count, 'session')} ended without being closed. ` +
      `Text, voice, settings${parts ? ` and ${plural(parts, 'audio part')}` : ''} can be restored.`;
    if (ui.banner.hidden) {
      ui.banner.hidden = false;
      ui.banner.dataset.shownAt = hintedAt ?? String(performance.now());
    }
  }
  ui.items.replaceChildren(...sessions.map(item));
}

function item(s) {
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
}

/**
 * Puts a stored session (restored here, or recovered from the server) into the editor and the
 * takes, and claims it for this tab. Resolves with its parts as the tests read them.
 */
export async function showSession(session, serverToken = session.serverToken) {
  const { id } = session;
  writeEditor(session);
  state.currentId = id;
  const snap = readEditor();
  const parts = session.params?.parts ?? null;
  dropTake(id);
  if (parts != null || session.chunks.length) {
    // The take's own text and settings, as stored: the editor now shows the same.
    const take = takeFrom(id, snap, parts ?? session.chunks.length);
    take.serverToken = serverToken;
    await Promise.all(session.chunks.map((c) => addChunk(take, c.index, c.bytes, { store: false })));
    if (session.audioEvicted) take.note = 'audio was removed from this device when storage was full';
    renderTake(take);
  }
  // Claims the session for this tab: it is no longer a crashed tab's.
  await saveNow(sessionInput(id, snap, parts));
  showGenerateButton();
  return chunkList(takes.get(id));
}

async function restore(id, li) {
  li.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    const session = await state.store.restore(id);
    offered.delete(id);
    if (session) {
      const chunks = await showSession(session);
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
    await state.store.dismiss(id);
    offered.delete(id);
    emit('dismissed', { id });
  } catch (e) {
    ui.status.textContent = `Could not dismiss: ${errorText(e)}`;
  }
  renderRecovery();
}
