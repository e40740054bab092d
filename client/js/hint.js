// The start-up hint (@chatterbox/recovery-client/hint): synchronous, no wasm, no imports, so a
// page can put the recovery banner into its first paint. Reads the localStorage index the store
// writes beside IndexedDB (client/src/store/hints.rs: `chatterbox-recovery:<dbName>:index`).

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
// script, the only kind every browser runs before its first paint. `dbName` is the database's own name, resolved.
function hint(root, { dbName = 'chatterbox-recovery', maxAge = 864e5, now = Date.now() } = {}, mark) {
  const key = (what) => `chatterbox-recovery:${dbName}:${what}`;
  let found = null;
  try {
    const index = JSON.parse(localStorage.getItem(key('index')));
    if (!index || typeof index != 'object' || Array.isArray(index)) return null;
    const cleanExit = Number(localStorage.getItem(key('clean-exit'))) || 0;
    found = { sessions: 0, unclosed: 0, newest: null, crashed: false };
    for (const at of Object.values(index)) {
      if (typeof at != 'number' || !isFinite(at)) continue;
      found.sessions++;
      if (found.newest === null || at > found.newest) found.newest = at;
      if (at > cleanExit && now - at < maxAge) found.unclosed++;
    }
    found.crashed = found.unclosed > 0;
    if (mark && found.crashed) {
      root ??= document.documentElement;
      root.classList.add('recovery-hinted');
      root.dataset.recoveryHint = 'crashed';
      root.dataset.recoveryHintAt ??= String(performance.now()); // when it first showed
    }
  } catch {
    // No localStorage or no document here, or a damaged index: the hint is only a hint.
  }
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
  `(${hint})(null,${JSON.stringify({ dbName: recoveryDbName(options), maxAge }).replace(/</g, '\\u003c')},true)`;

/** Records a clean exit (nothing left to recover): sessions saved before it no longer count. */
export function markCleanExit({ now = Date.now(), ...options } = {}) {
  try {
    localStorage.setItem(hintKey(recoveryDbName(options), 'clean-exit'), String(now));
  } catch {
    // No localStorage: the hint is only a hint.
  }
}
