// Takes and their audio parts, as client/demo/takes.js: playing them, and showing (and, for
// generated audio, storing) each part as it arrives. Not `takes.ts`: beside `Takes.tsx` it would
// be taken for the component on a case-insensitive file system.
import type { RecoveredSession } from '@chatterbox/recovery-client/zustand';
import { emit } from './announce';
import { storeChunk } from './saving';
import { updateTake, type Chunk, type Params, type Take } from './studio';
import { concatWav, sha256 } from './tts';
import { get } from './ui';

export const firstMissing = (take: Take): number => {
  for (let i = 0; i < take.parts; i++) if (!take.chunks.has(i)) return i;
  return take.parts;
};

let playerUrl: string | null = null;
export const player: { current: HTMLAudioElement | null } = { current: null };

export function play(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): void {
  const audio = player.current;
  if (!audio) return;
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
  audio.src = playerUrl;
  audio.play().catch(() => {
    // Autoplay refused: the controls are there.
  });
}

export function playTake(take: Take): void {
  const parts = [...take.chunks.values()].sort((a, b) => a.index - b.index).map((c) => c.bytes);
  if (parts.length) play(concatWav(parts));
}

function setChunk(id: string, chunk: Chunk): void {
  updateTake(id, (take) => ({ chunks: new Map(take.chunks).set(chunk.index, chunk) }));
}

/**
 * Shows an audio part, and (for generated audio) stores it. Hashing and storing run beside the
 * generation, never in its way.
 */
export async function addChunk(id: string, index: number, bytes: ArrayBuffer, persist: boolean): Promise<void> {
  setChunk(id, { index, bytes, sha: null, stored: persist ? null : true });
  const [sha, stored] = await Promise.all([sha256(bytes), persist ? storeChunk(id, index, bytes) : true]);
  setChunk(id, { index, bytes, sha, stored });
  if (stored && persist) emit('committed', { kind: 'chunk', id, index, bytes: bytes.byteLength, sha256: sha });
}

/** Hashes and shows the audio of a session that came back; the parts are already stored. */
export async function showChunks(session: RecoveredSession<Params>): Promise<{ index: number; sha256: string; bytes: number }[]> {
  await Promise.all(session.chunks.map((c) => addChunk(session.id, c.index, c.bytes, false)));
  return [...(get().takes.get(session.id)?.chunks.values() ?? [])].map(({ index, sha, bytes }) => ({
    index,
    sha256: sha ?? '',
    bytes: bytes.byteLength,
  }));
}
