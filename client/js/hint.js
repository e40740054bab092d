// The start-up hint (@chatterbox/recovery-client/hint): synchronous, no wasm, no imports, so a
// page can put the recovery banner into its first paint. Reads the localStorage index the store
// writes beside IndexedDB (client/src/store/hints.rs: `chatterbox-recovery:<dbName>:index`).

/** The localStorage key of one of the store's hints (`index`, `clean-exit`) for `dbName`. */
export const hintKey = (dbName, what) => `chatterbox-recovery:${dbName}:${what}`;

// Self-contained (it uses no outer name, so not even `hintKey`): `recoveryHintScript` inlines its source as a classic
// script, the only kind every browser runs before its first paint.
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

/** What the hint says, or null (no index, a damaged one, or no localStorage). Never throws. */
export const readRecoveryHint = (options) => hint(null, options, false);

/**
 * When the hint says work may be waiting, marks `root` (default <html>): class `recovery-hinted`,
 * `data-recovery-hint="crashed"` and `data-recovery-hint-at` (ms since navigation start).
 */
export const applyRecoveryHint = (root, options) => hint(root, options, true);

/** `applyRecoveryHint(null, { dbName, maxAge })` as the text of a classic inline script. */
export const recoveryHintScript = ({ dbName, maxAge } = {}) =>
  `(${hint})(null,${JSON.stringify({ dbName, maxAge })},true)`;

/** Records a clean exit (nothing left to recover): sessions saved before it no longer count. */
export function markCleanExit({ dbName = 'chatterbox-recovery', now = Date.now() } = {}) {
  try {
    localStorage.setItem(hintKey(dbName, 'clean-exit'), String(now));
  } catch {
    // No localStorage: the hint is only a hint.
  }
}
