// The issue's start-up figure in Debian's Chromium or Firefox ESR (E2E_BROWSER) against a running
// gateway: per run, text typed and auto-saved, the browser killed (SIGKILL) 0 to 1 s after the
// save, then launched again on the same profile; the figure is the first animation frame drawn
// with the recovery banner shown (from the start-up hint, or from `detect()`), timed when its
// callbacks run, in ms after DOMContentLoaded (negative: the banner came first). Figures, not
// pass/fail; the target is a p95 of 30 ms or less (docs/figures/relaunch.md). Each run also says
// whether that was the page's first frame (its first paint), when the hint marked <html>, the
// page's long tasks before it (Chromium: no frame is drawn while one runs),
// whether the localStorage index survived the kill (as the page found it), where the banner came
// from (the hint's index, the hint's IndexedDB read: `data-recovery-hint-from`, or the page's own
// check), and whether the banner went away again before the check was done (a gap: the figure is
// then its appearance that stayed, not the first).
// Usage:
//   RECOVERY_BASE_URL=http://127.0.0.1:3000 [DEMO_PATH=/react/] node tests/browser/bench-relaunch.mjs
// Knobs: RELAUNCH_RUNS (8); RELAUNCH_FLOOR=1 also measures the floor: a plain-JS
// `indexedDB.open(dbName)` and one small read (the newest session by `updatedAt`), issued by the
// bench before any page script runs, completed how long after DOMContentLoaded (an extra
// connection beside the page's own: measure the banner without it); RELAUNCH_FLOOR=dcl issues
// them at DOMContentLoaded instead (where the hint's read starts in Chromium); RELAUNCH_FLOOR=alone
// measures the floor alone: the relaunched browser opens a document of the same origin that runs
// none of the page's scripts (the API's health route), where the bench issues the same open and
// read at once, so that nothing else asks the storage; the figure is then when they completed,
// in ms after navigation start, to set beside the page's DOMContentLoaded (each run prints it).
// RELAUNCH_FLOOR_URL names that document where the origin has no API (an app served on its own:
// any same-origin file that runs no script, its stylesheet, say; a missing path would be answered
// with the app's index.html by a single-page app's server, and run the app).
// RELAUNCH_APP=<url> measures an app that follows the package's README instead of the demo pages
// (the tarball app, built and served: client/README.md, "Figures"): text typed into its first
// <textarea>, saved when the package's indicator says so, the package's banner watched.
import { BASE_URL, BROWSER, Browser, newProfile } from './lib/browser.mjs';
import { openDemo, start, tid } from './lib/demo.mjs';

const RUNS = Number(process.env.RELAUNCH_RUNS ?? 8);
const APP = process.env.RELAUNCH_APP ?? null;
const FLOOR_URL = process.env.RELAUNCH_FLOOR_URL ?? `${BASE_URL}/api/recovery/health`;

/** The demo page, or the app, opened in a browser launched on `profile`. */
async function launch(profile) {
  if (!APP) return start(profile);
  const browser = await Browser.launch(profile);
  const page = await browser.newPage();
  await page.goto(APP);
  return { browser, page };
}
const textField = APP ? 'textarea' : tid('tts-text');
const FLOOR = { 1: 'start', dcl: 'dcl', alone: 'alone' }[process.env.RELAUNCH_FLOOR] ?? null;

// Runs in the page before its scripts: DOMContentLoaded and the first frame after the banner
// shows, in ms since navigation start; what the localStorage index said at that point; with
// `floor`, when a bare IndexedDB open and read of the store's database completed.
function watch(floor) {
  const r = (window.__relaunch = { gap: false, longTasks: null });
  // The page's long tasks (Chromium only; Firefox has no long task timing): while one runs, no
  // frame is drawn.
  if (PerformanceObserver.supportedEntryTypes.includes('longtask')) {
    r.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) r.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  }
  addEventListener('DOMContentLoaded', () => (r.dcl = performance.now()));
  try {
    const item = (what) => localStorage.getItem(`chatterbox-recovery:chatterbox-recovery:${what}`);
    const cleanExit = Number(item('clean-exit')) || 0;
    r.indexSaysCrashed = Object.values(JSON.parse(item('index')) ?? {}).some((at) => at > cleanExit);
  } catch {
    r.indexSaysCrashed = false;
  }
  const bare = () => {
    const open = indexedDB.open('chatterbox-recovery');
    open.onupgradeneeded = () => open.transaction.abort();
    open.onsuccess = () => {
      const db = open.result;
      const read = db.transaction('sessions').objectStore('sessions').index('updatedAt').openCursor(null, 'prev');
      read.onsuccess = () => (r.idb = performance.now());
      db.close();
    };
  };
  if (floor === 'start' || floor === 'alone') bare();
  if (floor === 'dcl') addEventListener('DOMContentLoaded', bare);
  // Whether the banner (or the skeleton) is shown: on every change to the document, and at every
  // frame, as a stylesheet that loads can show a marked skeleton without changing the document.
  const check = () => {
    const banner = document.querySelector('[data-testid="recovery-banner"]');
    const shown = [banner, document.querySelector('.cbr-first-paint')].some((el) => el?.checkVisibility());
    // Until the page's check is done, a banner once shown should stay. When it goes (a render
    // that drops it), the figure is its next appearance, the one that stays.
    if (r.seen && !shown && document.documentElement.dataset.ready !== 'true') {
      r.gap = true;
      r.seen = false;
      r.visible = undefined;
    }
    if (!shown || r.seen) return;
    r.seen = true;
    r.hinted = document.documentElement.dataset.recoveryHintAt !== undefined;
    r.markedAt = Number(document.documentElement.dataset.recoveryHintAt);
    r.from = document.documentElement.dataset.recoveryHintFrom;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  // The figure: the first frame drawn with the banner, timed when its callbacks run
  // (performance.now(), not the callback's argument: that is when the frame began, which a long
  // task can put well before the frame is drawn).
  let frames = 0;
  const everyFrame = () => {
    const now = performance.now();
    frames++;
    r.firstFrame ??= now;
    check();
    if (r.seen && r.visible === undefined) {
      r.visible = now;
      r.inFirstFrame = frames === 1;
    }
    requestAnimationFrame(everyFrame);
  };
  requestAnimationFrame(everyFrame);
}

/** The page's long tasks that started before the banner's frame, as `start+duration` ms after DOMContentLoaded. */
const longBefore = (r) =>
  r.longTasks
    .filter(([start]) => start < r.visible)
    .map(([start, duration]) => `${Math.round(start - r.dcl)}+${Math.round(duration)}`)
    .join(', ') || 'none';

/** The p95 of `values` (nearest rank). */
const p95 = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
};

const figures = [];
for (let i = 0; i < RUNS; i++) {
  // A fresh profile each run: the one session's hint is the only one there.
  const profile = newProfile(`bench-relaunch-${i}`);
  const { browser, page } = await launch(profile);
  await page.fill(textField, `Left behind by crash ${i}.`);
  await page.waitForSelector(`${tid('autosave-indicator')}[data-state="saved"]`, { timeout: 30_000 });
  const wait = Math.round((i / Math.max(1, RUNS - 1)) * 1000);
  await new Promise((resolve) => setTimeout(resolve, wait));
  await browser.kill();

  const again = await Browser.launch(profile);
  await again.addInitScript(watch, FLOOR);
  const fresh = await again.newPage();
  if (FLOOR === 'alone') {
    await fresh.goto(FLOOR_URL);
    await fresh.waitForFunction(() => window.__relaunch?.idb !== undefined, null, { timeout: 30_000 });
    const { idb } = await fresh.evaluate(() => window.__relaunch);
    figures.push({ killedAfterSave: wait, idb });
    console.log(`# run ${i + 1}: killed ${wait} ms after the save; bare IndexedDB open + read alone done ${idb.toFixed(1)} ms after navigation start`);
    await again.kill();
    continue;
  }
  await (APP ? fresh.goto(APP) : openDemo(fresh));
  await fresh.waitForFunction(
    (floor) => {
      const r = window.__relaunch;
      return r?.visible !== undefined && r.dcl !== undefined && (!floor || r.idb !== undefined);
    },
    FLOOR,
    { timeout: 30_000 },
  );
  const r = await fresh.evaluate(() => window.__relaunch);
  const source = !r.hinted ? 'the check' : r.from === 'indexeddb' ? 'the hint: IndexedDB' : 'the hint: localStorage';
  const floor = FLOOR ? r.idb - r.dcl : undefined;
  figures.push({ killedAfterSave: wait, dcl: r.dcl, afterDcl: r.visible - r.dcl, source, gap: r.gap, floor, indexKept: r.indexSaysCrashed, first: r.inFirstFrame });
  console.log(
    `# run ${i + 1}: killed ${wait} ms after the save; DOMContentLoaded at ${r.dcl.toFixed(1)} ms; ` +
      `the index ${r.indexSaysCrashed ? 'survived' : 'lost the save'}; ` +
      `banner ${(r.visible - r.dcl).toFixed(1)} ms after DOMContentLoaded (from ${source}${r.gap ? '; shown before, it went away first' : ''}` +
      `${r.hinted ? `; <html> marked ${(r.markedAt - r.dcl).toFixed(1)} ms after it` : ''}` +
      `; ${r.inFirstFrame ? 'in the first frame' : `the first frame ${(r.firstFrame - r.dcl).toFixed(1)} ms after it`}` +
      `${r.longTasks ? `; long tasks before it: ${longBefore(r)}` : ''})` +
      (FLOOR ? `; bare IndexedDB open + read (from ${FLOOR}) done ${floor.toFixed(1)} ms after DOMContentLoaded` : ''),
  );
  await again.kill();
}
if (FLOOR === 'alone') {
  const done = figures.map((f) => f.idb);
  console.log(
    `${BROWSER}: bare IndexedDB open + read alone after a kill, p95 of ${RUNS}: ${p95(done).toFixed(1)} ms after navigation start ` +
      `(min ${Math.min(...done).toFixed(1)} ms)`,
  );
  process.exit(0);
}
const after = figures.map((f) => f.afterDcl);
const dclMedian = [...figures.map((f) => f.dcl)].sort((a, b) => a - b)[Math.floor(RUNS / 2)];
const from = (source) => figures.filter((f) => f.source === source).length;
console.log(
  `${BROWSER} ${APP ?? process.env.DEMO_PATH ?? '/'}: relaunch banner after DOMContentLoaded, p95 of ${RUNS}: ${p95(after).toFixed(1)} ms ` +
    `(DOMContentLoaded p50 ${dclMedian.toFixed(1)} ms after navigation start) ` +
    `(max ${Math.max(...after).toFixed(1)} ms; from the hint's localStorage ${from('the hint: localStorage')}, its IndexedDB ` +
    `${from('the hint: IndexedDB')}, the check ${from('the check')}; gaps ${figures.filter((f) => f.gap).length}; ` +
    `index survived the kill ${figures.filter((f) => f.indexKept).length}; in the first frame ${figures.filter((f) => f.first).length})` +
    (FLOOR ? `; floor (bare IndexedDB open + read from ${FLOOR}) p95 ${p95(figures.map((f) => f.floor)).toFixed(1)} ms after DOMContentLoaded` : ''),
);
