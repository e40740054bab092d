import { useSyncExternalStore, type FormEvent } from 'react';
import { backup, recoverByToken, server } from './server';
import { useStudio } from './studio';

export function ServerCopy() {
  const view = useSyncExternalStore(server.subscribe, server.get);
  const progress = useStudio((s) => s.recovery.progress);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const token = new FormData(e.currentTarget).get('token')?.toString().trim();
    if (token) void recoverByToken(token);
  };
  return (
    <section className="panel server" aria-labelledby="server-title">
      <h2 id="server-title">Server copy</h2>
      <p className="hint">
        Back the current take up to the recovery server and keep the token: with it you get the text, settings and
        audio back on any browser for 24 hours.
      </p>
      <div className="row">
        <button type="button" data-testid="server-backup" disabled={view.busy} onClick={() => void backup()}>Back up current take</button>
        <output className="token" data-testid="server-token">{view.token}</output>
      </div>
      <form className="row" data-testid="server-recover" onSubmit={submit}>
        <input type="text" name="token" placeholder="Recovery token" aria-label="Recovery token" spellCheck={false} autoComplete="off" required />
        <button type="submit" disabled={view.busy}>Recover by token</button>
      </form>
      <progress
        data-testid="recovery-progress"
        max={1}
        value={progress && progress.total > 0 ? Math.min(1, progress.loaded / progress.total) : undefined}
        data-phase={progress?.phase}
        hidden={!progress}
      />
      <p className="message" data-testid="server-message" data-outcome={view.outcome ?? undefined} aria-live="polite">{view.message}</p>
    </section>
  );
}
