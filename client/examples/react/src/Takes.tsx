import { memo } from 'react';
import { firstMissing, play, playTake, player } from './audio';
import { runTake } from './generate';
import { useStudio, VOICES, type Take } from './studio';
import { wavDuration } from './tts';

export const voiceName = (id: string | null): string => VOICES.find((v) => v.id === id)?.name ?? id ?? 'unknown voice';
export const excerpt = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1).trimEnd()}…` : text);

const TakeItem = memo(function TakeItem({ take, generating, busy }: { take: Take; generating: boolean; busy: boolean }) {
  const have = take.chunks.size;
  const total = take.parts;
  const state = generating ? 'generating' : have >= total ? 'complete' : 'incomplete';
  const bits = [`${have} of ${total} part${total === 1 ? '' : 's'}`, voiceName(take.voiceId)];
  if (take.serverToken) bits.push('backed up on the server');
  if (take.note) bits.push(take.note);
  const chunks = [...take.chunks.values()].sort((a, b) => a.index - b.index);
  return (
    <li className="take" data-testid="take" data-session-id={take.id} data-state={state} data-parts={String(total)}>
      <div className="take-head">
        <p className="take-text">{take.text ? excerpt(take.text, 140) : 'Audio recovered from the server'}</p>
        <p className="take-meta">{bits.join(' · ')}</p>
        <div className="take-actions">
          <button type="button" data-testid="take-play" onClick={() => playTake(take)}>Play take</button>
          <button type="button" data-testid="take-resume" hidden={state !== 'incomplete' || !take.parts} disabled={busy} onClick={() => void runTake(take.id)}>
            Resume from part {firstMissing(take) + 1}
          </button>
        </div>
      </div>
      <ol className="chunks">
        {chunks.map((c) => (
          <li
            key={c.index}
            data-testid="audio-chunk"
            data-session-id={take.id}
            data-index={String(c.index)}
            data-bytes={String(c.bytes.byteLength)}
            data-sha256={c.sha ?? undefined}
            data-stored={String(c.stored)}
          >
            <button type="button" className="chunk-play" onClick={() => play(c.bytes)}>▶ Part {c.index + 1}</button>
            <span className="chunk-info">
              {wavDuration(c.bytes).toFixed(1)} s · {c.stored === null ? 'saving…' : c.stored ? 'saved on this device' : 'not saved on this device'}
            </span>
          </li>
        ))}
      </ol>
    </li>
  );
});

export function Takes() {
  const takes = useStudio((s) => s.takes);
  const generating = useStudio((s) => s.generating);
  const list = [...takes.values()].reverse();
  return (
    <section className="panel output" aria-labelledby="takes-title">
      <h2 id="takes-title">Takes</h2>
      <audio data-testid="tts-player" controls preload="none" ref={(el) => { player.current = el; }} />
      <p className="empty" data-testid="takes-empty" hidden={list.length > 0}>
        Generated takes appear here, part by part, as the audio arrives.
      </p>
      <ol className="takes" data-testid="takes">
        {list.map((take) => (
          <TakeItem key={take.id} take={take} generating={generating === take.id} busy={generating !== null} />
        ))}
      </ol>
    </section>
  );
}
