// The plain API as client/README.md shows it ("The plain API": open, autosave with an indicator,
// audio as it arrives, detect/restore/dismiss, storage, data loss, server backup and recovery):
// type-checked with the tarball app (strict), never run. The README's snippets are cut from here
// (test-js/readme-snippets.mjs); what they leave to the app is declared first.
declare const auth: { getAccessToken(): Promise<string> };
declare const indicator: HTMLElement;
declare const editor: HTMLTextAreaElement;
declare const sessionId: string;
declare const voiceId: string;
declare const speed: number;
declare const pitch: number;
declare const ttsStream: AsyncIterable<[number, ArrayBuffer | Uint8Array]>;
declare function askUser(question: string): Promise<boolean>;
declare const player: { load(parts: ArrayBuffer[]): void };
declare function showNotice(text: string): void;
declare const bar: { update(fraction: number): void };
declare function onProgress(progress: { phase: string; loaded: number; total: number }): void;
declare function notice(text: string): void;
declare function use(session: unknown): void;

import { openRecoveryStore } from '@chatterbox/recovery-client';

const recovery = await openRecoveryStore({
  apiBaseUrl: 'https://tts.example.com', // only for the server path; routes under /api/recovery
  authorization: async () => `Bearer ${await auth.getAccessToken()}`, // JWT stacks only
  // dbName: 'chatterbox-recovery', saveDelayMs: 0, retentionMs: 24 * 3600e3
});

const unsubscribe = recovery.onStatus(({ status, sessionIds, message, evicted }) => {
  // status: 'pending' | 'saving' | 'saved' | 'error' | 'quota' | 'conflict' | 'remote-update'
  indicator.textContent = status === 'pending' ? 'Unsaved changes…' : status;
});

export { unsubscribe };

editor.addEventListener('input', () =>
  recovery.autosave({ id: sessionId, text: editor.value, voiceId, params: { speed, pitch } }));

export async function audio(): Promise<void> {
  for await (const [index, bytes] of ttsStream) {                 // ArrayBuffer or typed array
    const { stored, evicted } = await recovery.appendChunk(sessionId, index, bytes, 'audio/wav');
  }
  await recovery.complete(sessionId);                              // finished: evictable first
}

export async function offer(): Promise<void> {
  const crashed = await recovery.detect();        // SessionSummary[], newest first
  for (const s of crashed) {
    if (await askUser(`Recover "${s.text.slice(0, 40)}…" (${s.chunkCount} audio parts)?`)) {
      const session = await recovery.restore(s.id); // { text, voiceId, params, chunks: [{index, mime, bytes}], … }
      if (!session) continue;                     // gone meanwhile (another tab dismissed it)
      editor.value = session.text;
      player.load(session.chunks.map((c) => c.bytes));
      recovery.autosave({ id: s.id, text: session.text, voiceId: session.voiceId, params: session.params });
    } else {
      await recovery.dismiss(s.id);               // deletes it, and revokes its server backup
    }
  }
}

export async function storage(): Promise<number> {
  const { usage, quota } = (await recovery.estimate()) ?? { usage: 0, quota: 0 };
  const persistent = await recovery.requestPersist(); // navigator.storage.persist()
  if (recovery.dataLoss) showNotice('This browser deleted the work it had saved here after the crash. ' +
    'A take backed up to the server can still be recovered by token.');
  return persistent ? quota - usage : 0;
}

export async function server(): Promise<void> {
  const { token, expiresAt } = await recovery.backup(sessionId, {
    ttlSeconds: 24 * 3600, filename: 'take-1.wav',
    onProgress: ({ phase, loaded, total }) => bar.update(loaded / total),
  });
  // Later, on this browser (the token is kept with the session):
  const again = await recovery.recover(sessionId, { onProgress });
  // …or on any other browser, where the session comes back under its own id:
  const result = await recovery.recover(null, { token, onProgress });
  if (result.audio === 'expired') notice('The audio has expired; your text and settings are back.');
  use(result.session);   // { id, text, voiceId, params, chunks: [{ index, mime, bytes }], … }
  console.log(expiresAt, again.audio);
}
