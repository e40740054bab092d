// The server copy: back the whole session up (text, voice, settings and every part) and get a
// token; recover by token on any browser, with progress both ways.
import { showSession } from './recovery.js';
import { playTake, renderTake } from './takes.js';
import { emit, errorText, plural, query, state, takes, ui } from './ui.js';

function showProgress({ phase, loaded, total }) {
  ui.progress.hidden = false;
  if (total > 0) ui.progress.value = Math.min(1, loaded / total);
  else ui.progress.removeAttribute('value');
  ui.progress.dataset.phase = phase;
  emit('progress', { phase, loaded, total });
}

export function say(text, outcome) {
  ui.message.textContent = text;
  ui.message.dataset.outcome = outcome;
}

export async function backup() {
  const current = takes.get(state.currentId);
  const take = current?.chunks.size ? current : [...takes.values()].reverse().find((t) => t.chunks.size);
  if (!take) return say('Generate a take first: there is no audio to back up.', 'nothing');
  if (!state.store) return say('Local storage is unavailable, so there is nothing to back up.', 'error');
  ui.backup.disabled = true;
  const ttl = Number(query.get('backup_ttl'));
  try {
    const result = await state.store.backup(take.id, {
      ttlSeconds: ttl > 0 ? ttl : undefined,
      filename: `chatterbox-take-${take.id.slice(0, 8)}.wav`,
      onProgress: showProgress,
    });
    take.serverToken = result.token;
    renderTake(take);
    ui.token.value = result.token;
    ui.token.textContent = result.token;
    const until = new Date(Number(result.expiresAt) * 1000 || result.expiresAt);
    say(`Backed up the take, its text and settings (${Math.round(result.bytes / 1024)} KB). Keep the ` +
      `token: it recovers them on any browser until ${until.toLocaleString()}.`, 'backed-up');
    emit('backup', { id: take.id, token: result.token, expiresAt: result.expiresAt, bytes: result.bytes });
  } catch (e) {
    say(`Backup failed: ${errorText(e)}`, 'error');
  } finally {
    ui.backup.disabled = false;
  }
}

/**
 * Recovers a session by token (typed, or from a recovery link: `link`, whose words say so) and
 * puts it in the editor. Resolves with the outcome: `restored`, `expired`, `not-found`,
 * `storage-full` or `error`.
 */
export async function recoverByToken(token, { link = false } = {}) {
  if (!state.store) {
    say('Local storage is unavailable here, so nothing can be recovered into this page.', 'error');
    return 'error';
  }
  // A take of this page with that token comes back under its own id; any other under the id
  // in the backup.
  const known = [...takes.values()].find((t) => t.serverToken === token);
  const button = ui.recover.querySelector('button');
  button.disabled = true;
  say(link ? 'Opening the recovery link…' : 'Recovering…', 'working');
  let id = known?.id ?? null;
  let outcome = 'error';
  try {
    const result = await state.store.recover(id, { token, onProgress: showProgress });
    id = result.session?.id ?? id;
    outcome = result.audio;
    let chunks = [];
    if (result.audio === 'restored' && result.session) {
      const s = result.session;
      chunks = await showSession(s, token);
      const bytes = s.chunks.reduce((n, c) => n + c.bytes.byteLength, 0);
      say(`Recovered the text, settings and ${plural(s.chunks.length, 'audio part')} ` +
        `(${Math.round(bytes / 1024)} KB) from the server.`, 'restored');
      // A session with no audio (a text-only server copy) has no take to play.
      const take = takes.get(s.id);
      if (take) playTake(take);
    } else if (result.audio === 'expired') {
      say(link
        ? 'This recovery link has expired: the server keeps a copy for 24 hours after its last change. ' +
          'Ask for a newer link, or open the page where the work was typed.'
        : 'The audio for this token has expired: server copies are kept for 24 hours. ' +
          'Text and settings saved on this browser are not affected.', 'expired');
    } else if (result.audio === 'not-found') {
      say(link
        ? 'There is nothing for this recovery link: the copy was deleted, or the link is incomplete (copy all of it).'
        : 'There is nothing for this token: it was dismissed, or never existed.', 'not-found');
    } else {
      say('The audio was downloaded, but this device has no room to keep it.', 'storage-full');
    }
    announceRecovered(id, link ? 'link' : 'token', result, chunks);
  } catch (e) {
    say(link
      ? `Could not open the recovery link: ${errorText(e)}. Check the connection, then reload the page to try again.`
      : `Recovery failed: ${errorText(e)}`, 'error');
    emit('recovered', { id, via: link ? 'link' : 'token', audio: 'error', message: errorText(e) });
  } finally {
    button.disabled = false;
  }
  return outcome;
}

/**
 * The `recovered` event of a recovery that got an answer (by token, link or server copy): the
 * session's id, how it came back (`via`), the outcome, and what the editor now shows.
 */
export function announceRecovered(id, via, result, chunks) {
  const s = result.session;
  emit('recovered', {
    id,
    via,
    audio: result.audio,
    text: s?.text ?? null,
    voiceId: s?.voiceId ?? null,
    params: s?.params ?? null,
    chunks,
  });
}
