// The demo: a small TTS page that uses the recovery client the way an app would. Every state
// change is also announced as a `demo:*` event on `window` (see README, "Demo"), which is what
// the end-to-end tests listen to. One concern per module: `editor`, `saving` (auto-save and its
// indicator), `takes` (audio parts), `generate`, `recovery` (banner, modal, restore),
// `server` (backup and recovery by token), `copy` (the continuous server copy: its switch, the
// recovery link, the server's copies after a lost storage), `tts` (the speech endpoint and WAV
// handling).
import { markCleanExit } from '/client/js/hint.js';
import { openRecoveryStore } from '/client/js/index.js';
import { linkToken, offerServerCopies, recoverFromLink, reopen, serverCopyOn, wireServerCopy } from './copy.js';
import { readEditor, sameContent, sessionInput, showSettings } from './editor.js';
import { generate, showGenerateButton } from './generate.js';
import { offered, renderRecovery } from './recovery.js';
import { attachStore, queueSave, setIndicator } from './saving.js';
import { backup, recoverByToken } from './server.js';
import { $, SETTINGS, emit, errorText, newId, query, state, takes, ui } from './ui.js';

function onEdit() {
  showSettings();
  const snap = readEditor();
  const take = takes.get(state.currentId);
  // A take's audio belongs to the text it was made from: editing after it starts a new session.
  if (take && !sameContent(take, snap)) state.currentId = newId();
  queueSave(sessionInput(state.currentId, snap));
  showGenerateButton();
}

/** The speech endpoint the user typed in the TTS endpoint field, kept on this browser. */
const ENDPOINT_KEY = 'chatterbox-demo:tts-endpoint';

/**
 * The speech endpoint at start. A link's `?tts=` is taken only on this page's own origin, so a
 * crafted link cannot send what the user types to another server; another server is used only
 * when the user typed it in the TTS endpoint field (kept in localStorage), never from the URL.
 * Else this origin's dev endpoint.
 */
function endpointAtStart() {
  const fallback = new URL('/v1/audio/speech', location.href).href;
  const asked = query.get('tts');
  if (asked) {
    let url = null;
    try {
      url = new URL(asked, location.href);
    } catch {
      // not a URL: ignored below like any other
    }
    if (url && url.origin === location.origin) return url.href;
    ui.status.textContent =
      `Ignored ?tts=${asked}: a link may only name this page's origin. ` +
      'To use another server, type its URL in the TTS endpoint field.';
  }
  let typed = null;
  try {
    typed = localStorage.getItem(ENDPOINT_KEY);
  } catch {
    // no localStorage: this origin's endpoint
  }
  return typed || fallback;
}

/** Keeps what the user typed in the endpoint field (only typing fires `input`). */
function rememberEndpoint() {
  try {
    const typed = ui.endpoint.value.trim();
    if (typed) localStorage.setItem(ENDPOINT_KEY, typed);
    else localStorage.removeItem(ENDPOINT_KEY);
  } catch {
    // no localStorage: the field still holds it for this page
  }
}

function wire() {
  ui.endpoint.value = endpointAtStart();
  ui.endpoint.addEventListener('input', rememberEndpoint);
  showSettings();
  for (const el of [ui.text, ui.voice, ui.seed, ...SETTINGS.map((k) => ui[k])]) {
    el.addEventListener('input', onEdit);
  }
  ui.generate.addEventListener('click', generate);
  $('tts-new').addEventListener('click', () => {
    // A new session; the one being edited stays saved as it is.
    state.currentId = newId();
    ui.text.value = '';
    showGenerateButton();
    ui.text.focus();
  });
  ui.open.addEventListener('click', () => ui.modal.showModal());
  ui.backup.addEventListener('click', backup);
  wireServerCopy();
  ui.recover.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = new FormData(ui.recover).get('token')?.toString().trim();
    if (token) recoverByToken(token);
  });
  // For the page script's hint next time: when this page last closed with nothing left to
  // recover. Before the recovery check is done, or while crashed sessions are still on offer
  // (neither restored nor dismissed), it is not a clean exit: the next load's first paint has the
  // banner again.
  addEventListener('pagehide', () => {
    if (document.documentElement.dataset.ready !== 'true' || offered.size > 0) return;
    markCleanExit();
  });
}

async function boot() {
  wire();
  let crashed = [];
  // `?recovery=off` runs the page without the client (for comparing generation times).
  if (query.get('recovery') !== 'off') {
    try {
      state.store = await openRecoveryStore({ apiBaseUrl: location.origin, serverCopy: serverCopyOn() });
      attachStore(state.store);
      crashed = await state.store.detect();
      for (const s of crashed) offered.set(s.id, s);
    } catch (e) {
      setIndicator('error', `Local saving is unavailable: ${errorText(e)}`);
    }
  }
  renderRecovery();
  showGenerateButton();
  if (state.store) await serverCopyAtStart();
  document.documentElement.dataset.ready = 'true';
  emit('ready', {
    crashed: crashed.map((s) => s.id),
    tabId: state.store?.tabId ?? null,
    dataLoss: state.store?.dataLoss ?? null,
    serverCopy: serverCopyOn(),
  });
}

/**
 * What the server copy does at start: the session of a `#recover=` link comes back; else, after
 * the browser lost its storage (or with nothing saved here while the copy is on), the server's
 * copies are offered; else the session the switch's reload left is shown again.
 */
async function serverCopyAtStart() {
  const { store } = state;
  const token = linkToken();
  const lost = store.dataLoss;
  if (lost) {
    // Said plainly: what was saved here before the crash is gone, and where to look instead.
    ui.status.textContent = `This browser deleted the work it had saved here, finding its storage damaged ` +
      `after the crash (${lost}). A take backed up to the server can still be recovered by token.`;
  }
  if (token) return recoverFromLink(token);
  let empty = false;
  if (!lost && serverCopyOn()) {
    try {
      empty = (await store.list()).length === 0;
    } catch {
      // the indicator says why storage fails
    }
  }
  if ((lost || empty) && (await offerServerCopies()) > 0) {
    ui.status.textContent += `${lost ? ' ' : ''}The server keeps copies of your sessions: restore them under Server copy.`;
  }
  if (!lost) await reopen();
}

window.chatterboxDemo = {
  get store() {
    return state.store;
  },
  takes,
  get currentId() {
    return state.currentId;
  },
};

boot();
