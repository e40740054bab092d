// Generated from hint.js (recoveryHintScript()): the start-up hint as a classic script, for
// <script src> in <head>; the default database. vitest checks it matches.
(function hint(root, { dbName = 'chatterbox-recovery', maxAge = 864e5, now = Date.now() } = {}, mark) {
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
})(null,{"dbName":"chatterbox-recovery"},true);
