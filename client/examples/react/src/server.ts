// Twin of client/demo/server.js in its messages: the example must stand alone as an app a developer copies; keep the two in step.
// The server copy: back a take up and get a token; recover by token on any browser.
import type { RecoverResult } from '@chatterbox/recovery-client';
import { emit } from './announce';
import { playTake, showChunks } from './audio';
import { updateTake } from './studio';
import { cell, errorText, get, query, store } from './ui';

export interface ServerView {
  message: string;
  outcome: string | null;
  token: string;
  busy: boolean;
}

/** The server copy's message, outcome and token, for <ServerCopy>. */
export const server = cell<ServerView>({ message: '', outcome: null, token: '', busy: false });
export const say = (message: string, outcome: string) => server.set({ ...server.get(), message, outcome });

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

/** A part as the `recovered` event lists it. */
export type ShownChunk = { index: number; sha256: string; bytes: number };

/**
 * The `recovered` event of a recovery that got an answer (by token, link or server copy): the
 * session's id, how it came back (`via`), the outcome, and what the editor now shows.
 */
export function announceRecovered(id: string | null, via: 'token' | 'link' | 'copy', result: RecoverResult, chunks: ShownChunk[]): void {
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

/** What a recovery by token (or link, or server copy) came to. */
export type Outcome = 'restored' | 'expired' | 'not-found' | 'storage-full' | 'error';

/**
 * Recovers a session by token (typed, or from a recovery link: `link`, whose words say so) and
 * puts it in the editor. Resolves with the outcome.
 */
export async function recoverByToken(token: string, { link = false } = {}): Promise<Outcome> {
  if (!store()) {
    say('Local storage is unavailable here, so nothing can be recovered into this page.', 'error');
    return 'error';
  }
  const via = link ? 'link' : 'token';
  // A take of this page with that token comes back under its own id; any other under the id
  // in the backup.
  const known = [...get().takes.values()].find((t) => t.serverToken === token);
  let id = known?.id ?? null;
  let outcome: Outcome = 'error';
  server.set({ ...server.get(), busy: true, message: link ? 'Opening the recovery link…' : 'Recovering…', outcome: 'working' });
  try {
    const result = await get().recovery.recover(token, { id, onProgress: (p) => emit('progress', { ...p }) });
    const session = result.session;
    id = session?.id ?? id;
    outcome = result.audio;
    let chunks: ShownChunk[] = [];
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
    announceRecovered(id, via, result, chunks);
  } catch (e) {
    say(link
      ? `Could not open the recovery link: ${errorText(e)}. Check the connection, then reload the page to try again.`
      : `Recovery failed: ${errorText(e)}`, 'error');
    emit('recovered', { id, via, audio: 'error', message: errorText(e) });
  } finally {
    server.set({ ...server.get(), busy: false });
  }
  return outcome;
}
