// Twin of client/demo/copy.js (with copySwitch.ts): the example must stand alone as an app a developer copies; keep the two in step.
// The continuous server copy (issue 17): the switch (its state in copySwitch.ts), the session's
// recovery link ("Copy link"), `#recover=<token>` on load, and the server's copies offered after
// the browser lost its storage.
import type { RecoverResult, ServerCopy } from '@chatterbox/recovery-client';
import type { RecoveredSession } from '@chatterbox/recovery-client/zustand';
import { emit } from './announce';
import { showChunks } from './audio';
import { keepServerCopy } from './copySwitch';
import { announceRecovered, recoverByToken, say, server, type ShownChunk } from './server';
import { useStudio, type Params } from './studio';
import { cell, errorText, get, statusLine, store } from './ui';

export interface CopyView {
  /** The current session's recovery link, once asked for. */
  link: string;
  /** The server's copies on offer (after a lost storage). */
  copies: readonly ServerCopy[];
  /** Session ids being restored. */
  restoring: ReadonlySet<string>;
  busy: boolean;
}

export const copyView = cell<CopyView>({ link: '', copies: [], restoring: new Set(), busy: false });
const update = (change: Partial<CopyView>) => copyView.set({ ...copyView.get(), ...change });

/** The session the editor showed when the switch reloaded the page: shown again after it. */
const REOPEN_KEY = 'chatterbox-demo:reopen';

/**
 * The store takes `serverCopy` when it opens, so the switch reloads the page with it (the
 * simplest honest way: one store, opened once, with what the switch says). What the editor
 * showed is flushed first and shown again after the reload.
 */
export async function toggleServerCopy(on: boolean): Promise<void> {
  if (!keepServerCopy(on)) {
    say('This browser does not let the page keep the setting (no localStorage).', 'error');
    return;
  }
  update({ busy: true });
  try {
    await useStudio.recovery.flush();
    sessionStorage.setItem(REOPEN_KEY, get().sessionId);
  } catch {
    // nothing saved, or no sessionStorage: the page reloads empty, with the switch as set
  }
  location.reload();
}

/** Shows the session the editor had before the switch reloaded the page, once. */
async function reopen(): Promise<void> {
  let id: string | null = null;
  try {
    id = sessionStorage.getItem(REOPEN_KEY);
    sessionStorage.removeItem(REOPEN_KEY);
  } catch {
    return;
  }
  if (!id) return;
  try {
    const session = await get().recovery.restore(id);
    if (session) await showChunks(session);
  } catch {
    // gone meanwhile: the editor starts empty
  }
}

/** "Copy link": the current session's recovery link, shown and copied to the clipboard. */
export async function copyLink(): Promise<void> {
  const opened = store();
  if (!opened) return say('Local storage is unavailable here, so there is no session to link to.', 'error');
  const id = get().sessionId;
  update({ busy: true });
  try {
    await useStudio.recovery.flush(); // the session must be stored before it has a copy
    const link = await opened.recoveryLink(id);
    update({ link });
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      // not allowed here (no focus, no permission): the link is shown to copy by hand
    }
    say(`${copied ? 'Link copied. ' : 'Copy the link above. '}Opened in any browser, it brings this session ` +
      'back (text, voice, settings and audio) for 24 hours after its last change. Anyone with it can, so keep it private.',
    'link');
    emit('recovery-link', { id, link, copied });
  } catch (e) {
    say(`No recovery link for this session: ${errorText(e)}. Type something first, and turn on ` +
      '"Keep a copy on the server" (or back the take up).', 'error');
    emit('recovery-link', { id, link: null, message: errorText(e) });
  } finally {
    update({ busy: false });
  }
}

/** The token of the recovery link this page was opened with (`#recover=<token>`), or null. */
function linkToken(): string | null {
  return /^#recover=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1] ?? null;
}

/**
 * Recovers the session of the link this page was opened with, puts it in the editor, then takes
 * the token out of the address bar (so it is neither bookmarked nor shared by accident). After a
 * failure that a reload may cure (the network), the token stays for that reload.
 */
async function recoverFromLink(token: string): Promise<void> {
  const outcome = await recoverByToken(token, { link: true });
  if (outcome !== 'restored') statusLine.set(server.get().message);
  if (outcome !== 'error') history.replaceState(history.state, '', location.pathname + location.search);
}

/**
 * After the browser lost its storage (or with nothing saved here while the copy is on): the
 * server's copies of this owner's sessions, each with "Restore". Resolves with how many.
 */
async function offerServerCopies(): Promise<number> {
  const opened = store();
  if (!opened) return 0;
  let copies: ServerCopy[];
  try {
    copies = await opened.serverCopies();
  } catch (e) {
    say(`Could not ask the server for your copies: ${errorText(e)}. Reload the page to try again.`, 'error');
    return 0;
  }
  update({ copies });
  emit('server-copies', { ids: copies.map((c) => c.session_id) });
  return copies.length;
}

/** Restores one of the server's copies into the editor (under a new id if one here has its id). */
export async function restoreCopy(sessionId: string): Promise<void> {
  const opened = store();
  if (!opened) return;
  update({ restoring: new Set(copyView.get().restoring).add(sessionId) });
  say('Restoring the server copy…', 'working');
  let result: RecoverResult | null = null;
  let chunks: ShownChunk[] = [];
  try {
    result = await opened.restoreCopy(sessionId);
    const session = result.session as RecoveredSession<Params> | null;
    if (result.audio === 'restored' && session) {
      useStudio.recovery.apply(session);
      chunks = await showChunks(session);
      update({ copies: copyView.get().copies.filter((c) => c.session_id !== sessionId) });
      const parts = session.chunks.length;
      say(`Restored the server copy: text, settings and ${parts} audio part${parts === 1 ? '' : 's'}.`, 'restored');
    } else if (result.audio === 'expired') {
      say('This server copy has expired (kept 24 hours after its last change), so it cannot come back.', 'expired');
    } else if (result.audio === 'not-found') {
      say('The server no longer has this copy: it was deleted.', 'not-found');
    } else {
      say('The copy was downloaded, but this device has no room to keep its audio.', 'storage-full');
    }
    announceRecovered(result.session?.id ?? sessionId, 'copy', result, chunks);
  } catch (e) {
    say(`Could not restore the server copy: ${errorText(e)}. Check the connection and try again.`, 'error');
    emit('recovered', { id: sessionId, via: 'copy', audio: 'error', message: errorText(e) });
  } finally {
    const restoring = new Set(copyView.get().restoring);
    restoring.delete(sessionId);
    update({ restoring });
  }
}

/**
 * What the server copy does at start, once the store is open: the session of a `#recover=` link
 * comes back; else, after the browser lost its storage (or with nothing saved here while the copy
 * is on), the server's copies are offered; else the session the switch's reload left is shown
 * again. Resolves with whether copies are on offer.
 */
export async function serverCopyAtStart({ dataLoss, serverCopy }: { dataLoss: string | null; serverCopy: boolean }): Promise<boolean> {
  const opened = store();
  if (!opened) return false;
  const token = linkToken();
  if (token) {
    await recoverFromLink(token);
    return false;
  }
  let empty = false;
  if (!dataLoss && serverCopy) {
    try {
      empty = (await opened.list()).length === 0;
    } catch {
      // the indicator says why storage fails
    }
  }
  const offered = (dataLoss !== null || empty) && (await offerServerCopies()) > 0;
  if (!dataLoss) await reopen();
  return offered;
}
