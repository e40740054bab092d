import { useSyncExternalStore, type FormEvent } from 'react';
import { copyLink, copyView, restoreCopy, toggleServerCopy } from './copy';
import { serverCopyOn } from './copySwitch';
import { backup, recoverByToken, server } from './server';
import { useStudio } from './studio';

const serverCopyAtLoad = serverCopyOn();

function ago(when: string | number | null): string {
  const ms = typeof when === 'number' ? when : Date.parse(when ?? '');
  if (!Number.isFinite(ms)) return 'updated at an unknown time';
  const min = Math.max(0, Math.round((Date.now() - ms) / 60000));
  return min < 1 ? 'updated just now' : min < 60 ? `updated ${min} min ago` : `updated ${Math.round(min / 60)} h ago`;
}

function until(when: string | number | null): string | null {
  if (when === null) return null;
  const date = new Date(typeof when === 'number' ? when * 1000 : when);
  return Number.isNaN(date.getTime()) ? null : `kept until ${date.toLocaleString()}`;
}

/** The server's copies on offer after the browser lost its storage, each with "Restore". */
function ServerCopies() {
  const { copies, restoring } = useSyncExternalStore(copyView.subscribe, copyView.get);
  // Always in the page (hidden while empty), as on the plain demo.
  return (
    <div className="copies" data-testid="server-copies-panel" hidden={!copies.length}>
      <p className="hint">This browser has no work saved, but the server keeps copies of your sessions:</p>
      <ul className="items" data-testid="server-copies">
        {copies.map((c) => (
          <li key={c.session_id} className="item" data-testid="server-copy-item" data-session-id={c.session_id}>
            <div className="item-main">
              <p className="excerpt">Session {c.session_id.slice(0, 8)}</p>
              <p className="meta">
                {[ago(c.updated_at), `${c.parts ?? 0} audio part${c.parts === 1 ? '' : 's'}`, until(c.expires_at)]
                  .filter(Boolean)
                  .join(' · ')}
              </p>
            </div>
            <div className="item-actions">
              <button
                type="button"
                className="primary"
                data-testid="server-copy-restore"
                disabled={restoring.has(c.session_id)}
                onClick={() => void restoreCopy(c.session_id)}
              >
                Restore
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ServerCopy() {
  const view = useSyncExternalStore(server.subscribe, server.get);
  const copy = useSyncExternalStore(copyView.subscribe, copyView.get);
  const progress = useStudio((s) => s.recovery.progress);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const token = new FormData(e.currentTarget).get('token')?.toString().trim();
    if (token) void recoverByToken(token);
  };
  return (
    <section className="panel server" aria-labelledby="server-title">
      <h2 id="server-title">Server copy</h2>
      <label className="switch">
        <input
          type="checkbox"
          data-testid="server-copy"
          defaultChecked={serverCopyAtLoad}
          disabled={copy.busy}
          onChange={(e) => void toggleServerCopy(e.currentTarget.checked)}
        />
        <span>
          <strong>Keep a copy on the server</strong> — sends what you type (and the other sessions saved on this
          browser) to the recovery server as you type, so a lost, wiped or replaced browser loses nothing older than a
          few seconds. Off: nothing leaves this browser unless you back it up; copies already sent expire 24 hours
          after their last change.
        </span>
      </label>
      <div className="row">
        <button type="button" data-testid="copy-link" disabled={copy.busy} onClick={() => void copyLink()}>Copy link</button>
        <input
          type="text"
          className="link"
          data-testid="recovery-link"
          readOnly
          aria-label="Recovery link"
          value={copy.link}
          hidden={!copy.link}
          onFocus={(e) => e.currentTarget.select()}
        />
      </div>
      <ServerCopies />
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
