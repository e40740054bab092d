// Twin of client/examples/react/src/copy.ts and copySwitch.ts: the React example must stand alone as an app a developer copies, so it repeats this; keep the two in step.
// The continuous server copy (issue 17): the "Keep a copy on the server" switch, the session's
// recovery link ("Copy link"), `#recover=<token>` on load, and the server's copies offered after
// the browser lost its storage.
import { showSession } from './recovery.js';
import { announceRecovered, recoverByToken, say } from './server.js';
import { $, emit, errorText, plural, state, ui } from './ui.js';

/** The switch, kept by the page (off unless the user turned it on here). */
const SWITCH_KEY = 'chatterbox-demo:server-copy';
/** The session the editor showed when the switch reloaded the page: shown again after it. */
const REOPEN_KEY = 'chatterbox-demo:reopen';

/** Whether the user turned the server copy on in this browser. */
export function serverCopyOn() {
  try {
    return localStorage.getItem(SWITCH_KEY) === 'on';
  } catch {
    return false; // no localStorage: the switch cannot be kept, so it stays off
  }
}

/**
 * The store takes `serverCopy` when it opens, so the switch reloads the page with it (the
 * simplest honest way: one store, opened once, with what the switch says). What the editor
 * showed is flushed first and shown again after the reload.
 */
async function toggle() {
  try {
    if (ui.serverCopy.checked) localStorage.setItem(SWITCH_KEY, 'on');
    else localStorage.removeItem(SWITCH_KEY);
  } catch {
    ui.serverCopy.checked = false;
    return say('This browser does not let the page keep the setting (no localStorage).', 'error');
  }
  ui.serverCopy.disabled = true;
  try {
    await state.store?.flush();
    sessionStorage.setItem(REOPEN_KEY, state.currentId);
  } catch {
    // nothing saved, or no sessionStorage: the page reloads empty, with the switch as set
  }
  location.reload();
}

/** The session to show again after the switch reloaded the page, once. */
function takeReopen() {
  try {
    const id = sessionStorage.getItem(REOPEN_KEY);
    sessionStorage.removeItem(REOPEN_KEY);
    return id;
  } catch {
    return null;
  }
}

/** Shows the session the editor had before the switch reloaded the page. */
export async function reopen() {
  const id = takeReopen();
  if (!id || !state.store) return;
  try {
    const session = await state.store.restore(id);
    if (session) await showSession(session);
  } catch {
    // gone meanwhile: the editor starts empty
  }
}

/** "Copy link": the current session's recovery link, shown and copied to the clipboard. */
async function copyLink() {
  const { store } = state;
  if (!store) return say('Local storage is unavailable here, so there is no session to link to.', 'error');
  ui.copyLink.disabled = true;
  const id = state.currentId;
  try {
    await store.flush(); // the session must be stored before it has a copy
    const link = await store.recoveryLink(id);
    ui.link.value = link;
    ui.link.hidden = false;
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      // not allowed here (no focus, no permission): the link is shown to copy by hand
    }
    ui.link.select();
    say(`${copied ? 'Link copied. ' : 'Copy the link above. '}Opened in any browser, it brings this session ` +
      'back (text, voice, settings and audio) for 24 hours after its last change. Anyone with it can, so keep it private.',
    'link');
    emit('recovery-link', { id, link, copied });
  } catch (e) {
    say(`No recovery link for this session: ${errorText(e)}. Type something first, and turn on ` +
      '"Keep a copy on the server" (or back the take up).', 'error');
    emit('recovery-link', { id, link: null, message: errorText(e) });
  } finally {
    ui.copyLink.disabled = false;
  }
}

export function wireServerCopy() {
  ui.serverCopy.checked = serverCopyOn();
  ui.serverCopy.addEventListener('change', toggle);
  ui.copyLink.addEventListener('click', copyLink);
}

/** The token of the recovery link this page was opened with (`#recover=<token>`), or null. */
export function linkToken() {
  return /^#recover=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1] ?? null;
}

/**
 * Recovers the session of the link this page was opened with, puts it in the editor, then takes
 * the token out of the address bar (so it is neither bookmarked nor shared by accident). After a
 * failure that a reload may cure (the network), the token stays for that reload.
 */
export async function recoverFromLink(token) {
  const outcome = await recoverByToken(token, { link: true });
  if (outcome !== 'restored') ui.status.textContent = ui.message.textContent;
  if (outcome !== 'error') history.replaceState(history.state, '', location.pathname + location.search);
}

const ago = (when) => {
  const ms = typeof when === 'number' ? when : Date.parse(when ?? '');
  if (!Number.isFinite(ms)) return 'updated at an unknown time';
  const min = Math.max(0, Math.round((Date.now() - ms) / 60000));
  return min < 1 ? 'updated just now' : min < 60 ? `updated ${min} min ago` : `updated ${Math.round(min / 60)} h ago`;
};

/**
 * After the browser lost its storage (or with nothing saved here while the copy is on): the
 * server's copies of this owner's sessions, each with "Restore". Resolves with how many.
 */
export async function offerServerCopies() {
  let copies;
  try {
    copies = await state.store.serverCopies();
  } catch (e) {
    say(`Could not ask the server for your copies: ${errorText(e)}. Reload the page to try again.`, 'error');
    return 0;
  }
  ui.copies.replaceChildren(...copies.map(copyItem));
  ui.copiesPanel.hidden = copies.length === 0;
  emit('server-copies', { ids: copies.map((c) => c.session_id) });
  return copies.length;
}

function copyItem(copy) {
  const li = document.getElementById('server-copy-item').content.firstElementChild.cloneNode(true);
  li.dataset.sessionId = copy.session_id;
  li.querySelector('.excerpt').textContent = `Session ${copy.session_id.slice(0, 8)}`;
  const until = copy.expires_at ? new Date(typeof copy.expires_at === 'number' ? copy.expires_at * 1000 : copy.expires_at) : null;
  li.querySelector('.meta').textContent = [
    ago(copy.updated_at),
    plural(copy.parts ?? 0, 'audio part'),
    until && !Number.isNaN(until.getTime()) ? `kept until ${until.toLocaleString()}` : null,
  ].filter(Boolean).join(' · ');
  $('server-copy-restore', li).addEventListener('click', () => restoreCopy(copy.session_id, li));
  return li;
}

async function restoreCopy(sessionId, li) {
  const button = $('server-copy-restore', li);
  button.disabled = true;
  say('Restoring the server copy…', 'working');
  try {
    const result = await state.store.restoreCopy(sessionId);
    const s = result.session;
    let chunks = [];
    if (result.audio === 'restored' && s) {
      chunks = await showSession(s);
      li.remove();
      ui.copiesPanel.hidden = ui.copies.childElementCount === 0;
      say(`Restored the server copy: text, settings and ${plural(s.chunks.length, 'audio part')}.`, 'restored');
    } else if (result.audio === 'expired') {
      say('This server copy has expired (kept 24 hours after its last change), so it cannot come back.', 'expired');
    } else if (result.audio === 'not-found') {
      say('The server no longer has this copy: it was deleted.', 'not-found');
    } else {
      say('The copy was downloaded, but this device has no room to keep its audio.', 'storage-full');
    }
    announceRecovered(s?.id ?? sessionId, 'copy', result, chunks);
  } catch (e) {
    say(`Could not restore the server copy: ${errorText(e)}. Check the connection and try again.`, 'error');
    emit('recovered', { id: sessionId, via: 'copy', audio: 'error', message: errorText(e) });
  } finally {
    button.disabled = false;
  }
}
