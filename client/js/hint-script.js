// Generated from hint.js (recoveryHintScript()): the start-up hint as a classic script, for
// <script src> in <head>; the default database. vitest checks it matches.
(function hint(root, { dbName = 'chatterbox-recovery', maxAge = 864e5, now = Date.now() } = {}, mark) {
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
})(null,{"dbName":"chatterbox-recovery"},true);
