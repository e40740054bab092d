// The start-up hint (@chatterbox/recovery-client/hint): synchronous, no wasm, no imports, so a
// page can put the recovery banner into its first paint. Reads the localStorage index the store
// writes beside IndexedDB (client/src/store/hints.rs: `chatterbox-recovery:<dbName>:index`) and,
// when that says nothing crashed, the store's IndexedDB database itself (see `hint` below).

/** The localStorage key of one of the store's hints (`index`, `clean-exit`) for `dbName`. */
export const hintKey = (dbName, what) => `chatterbox-recovery:${dbName}:${what}`;

/**
 * The database of `{ user, dbName }` (default `chatterbox-recovery`): with a user, `<dbName>:user-<16 hex digits>`,
 * a hash of the user's id, so two users of one browser profile keep apart and the id is not in the name. An empty or
 * missing user means `dbName` itself.
 */
export function recoveryDbName({ dbName = 'chatterbox-recovery', user } = {}) {
  if (!user) return dbName;
  // A 64-bit hash (cyrb53's mixing) rather than the id itself, often an e-mail, which devtools would show; it hides
  // the id from a glance, not from someone who guesses it. Synchronous, unlike crypto.subtle: the hint runs before
  // the first paint.
  let a = 0xdeadbeef, b = 0x41c6ce57;
  for (const c of String(user)) {
    a = Math.imul(a ^ c.codePointAt(0), 2654435761);
    b = Math.imul(b ^ c.codePointAt(0), 1597334677);
  }
  a = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  b = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return `${dbName}:user-${[b, a].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('')}`;
}

// Self-contained (it uses no outer name, so not even `hintKey`): `recoveryHintScript` inlines its source as a classic
// script, the only kind every browser runs before its first paint, so it is written tersely (comments out here, where
// they cost the script nothing). `dbName` is the database's own name, resolved.
//
// First the localStorage index, synchronously. When that says nothing crashed and `mark` is set, IndexedDB itself:
// Chromium batches localStorage writes to disk, so a kill within a second or so of a save loses the index's last
// write, while an IndexedDB commit reaches the OS before its `complete` event. The newest session (the `updatedAt`
// index, backwards) counts as unclosed when it is newer than the clean-exit mark and `maxAge`, and its tab's row in
// `tabs` says no clean exit (client/src/store: schema.rs, liveness.rs); the newest session and the tab rows are asked
// for at once, not one after the other (after a kill each answer can take tens of ms). Then <html> is marked as
// above, a few ms later, with `data-recovery-hint-from="indexeddb"` (such a mark can come after the first paint;
// figures: docs/figures/relaunch.md). The read never creates the database (opened without a version, a missing one
// would be: aborting the upgrade leaves none), closes its connection at once (no upgrade of the store waits on it),
// and swallows every failure (an older schema, no IndexedDB), as the index's read does (no localStorage, a damaged
// index): the hint is only a hint. Its answer is not in the return value, which stays synchronous: follow the mark
// (`recoveryHinted`, `onRecoveryHint`) in code that may run before it lands.
//
// The read starts at once. Chromium reports a database it deleted as damaged (`dataLoss` on the upgrade event) to the
// first open after start-up only, which is then the hint's: the hint hands the report on, on <html>
// (`data-recovery-data-loss`, and `data-recovery-data-loss-db` naming the database), where `openRecoveryStore` takes it
// to tell the user (IndexedDB answers opens of one database in the order they were made, so it is there by then).
function hint(root, { dbName = 'chatterbox-recovery', maxAge = 864e5, now = Date.now() } = {}, mark) {
  let found = null, cleanExit = 0;
  const key = (what) => localStorage.getItem(`chatterbox-recovery:${dbName}:${what}`);
  const fresh = (at) => at > cleanExit && now - at < maxAge;
  const safe = (f) => () => { try { f(); } catch {} };
  const show = (from) => {
    root ??= document.documentElement;
    root.classList.add('recovery-hinted');
    root.dataset.recoveryHint = 'crashed';
    root.dataset.recoveryHintAt ??= String(performance.now());
    if (from) root.dataset.recoveryHintFrom = from;
  };
  safe(() => {
    cleanExit = +key('clean-exit') || 0;
    const index = JSON.parse(key('index'));
    if (!index || typeof index != 'object' || Array.isArray(index)) return;
    found = { sessions: 0, unclosed: 0, newest: null, crashed: false };
    for (const at of Object.values(index)) if (typeof at == 'number' && isFinite(at)) {
      found.sessions++;
      found.newest = Math.max(found.newest ?? at, at);
      found.unclosed += fresh(at);
    }
    found.crashed = found.unclosed > 0;
  })();
  if (mark) safe(() => {
    if (found?.crashed) return show();
    safe(() => {
      const open = indexedDB.open(dbName);
      open.onupgradeneeded = (e) => {
        safe(() => {
          const d = document.documentElement.dataset;
          if (e.dataLoss == 'total') d.recoveryDataLossDb = dbName, d.recoveryDataLoss = e.dataLossMessage || 'lost';
        })();
        open.transaction.abort();
      };
      open.onsuccess = () => {
        const db = open.result;
        safe(() => {
          const tx = db.transaction(['sessions', 'tabs']);
          const newest = tx.objectStore('sessions').index('updatedAt').openCursor(null, 'prev');
          const tabs = tx.objectStore('tabs').getAll();
          newest.onsuccess = tabs.onsuccess = safe(() => {
            if (newest.readyState != 'done' || tabs.readyState != 'done') return;
            const s = newest.result?.value;
            if (fresh(s?.updatedAt) && !tabs.result.some((t) => t.tabId == s.tabId && t.cleanExit)) show('indexeddb');
          });
        })();
        db.close();
      };
    })();
  })();
  return found;
}

/** The hint's options with `dbName` the database's own name. */
const resolved = (options) => ({ ...options, dbName: recoveryDbName(options) });

/** What the hint says, or null (no index, a damaged one, or no localStorage). Never throws. */
export const readRecoveryHint = (options) => hint(null, resolved(options), false);

/**
 * When the hint says work may be waiting, marks `root` (default <html>): class `recovery-hinted`,
 * `data-recovery-hint="crashed"` and `data-recovery-hint-at` (ms since navigation start).
 */
export const applyRecoveryHint = (root, options) => hint(root, resolved(options), true);

/**
 * `applyRecoveryHint(null, { dbName, user, maxAge })` as the text of a classic inline script. The script names the
 * user's database, not the user, and escapes `<`, so no id can end the <script> element it goes in.
 */
export const recoveryHintScript = ({ maxAge, ...options } = {}) =>
  `(${String(hint).replace(/\n */g, '\n')})(null,${JSON.stringify({ dbName: recoveryDbName(options), maxAge }).replace(/</g, '\\u003c')},true)`;

/** Whether <html> carries the hint's mark (`data-recovery-hint="crashed"`): work may be waiting. */
export const recoveryHinted = () => globalThis.document?.documentElement.dataset.recoveryHint === 'crashed';

/**
 * Calls `changed` when the hint's mark on <html> changes (its IndexedDB read can set it after the app's first render);
 * returns the function that stops that. With `recoveryHinted`, the pair React's `useSyncExternalStore` takes.
 */
export function onRecoveryHint(changed) {
  const observer = new MutationObserver(() => changed());
  observer.observe(document.documentElement, { attributeFilter: ['data-recovery-hint'] });
  return () => observer.disconnect();
}

/** Records a clean exit (nothing left to recover): sessions saved before it no longer count. */
export function markCleanExit({ now = Date.now(), ...options } = {}) {
  try {
    localStorage.setItem(hintKey(recoveryDbName(options), 'clean-exit'), String(now));
  } catch {
    // No localStorage: the hint is only a hint.
  }
}
