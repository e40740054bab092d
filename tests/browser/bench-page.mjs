// The demo page's figures in Debian's Chromium or Firefox ESR (E2E_BROWSER, as the E2E tests)
// against a running gateway (client/README.md):
//
// 1. the recovery banner after navigation start, warm cache: a session left by a killed browser,
//    the page loaded again and again on the same profile; per load, the first animation frame
//    after the banner shows (from the localStorage hint, or from `detect()`) and the first after
//    `detect()` confirmed it ("Unsaved work was found."), both from navigation start;
// 2. TTS generation wall time of a 20-part take with the client on (and its server copy, the
//    "Keep a copy on the server" switch; SERVER_COPY=off leaves it off) and off
//    (`?recovery=off`), alternating in one browser, from the click on Generate to the demo's
//    `generation` `done` event (what the person waits for):
//    once with the dev speech endpoint at a server's pace (its pieces 50 ms apart, so at least
//    150 ms a part: still several times faster than Chatterbox on a GPU), once at full speed
//    (no pauses: each part as fast as this machine synthesises it, about 60 ms).
//
// Figures, not pass/fail. Usage:
//   RECOVERY_BASE_URL=http://127.0.0.1:3000 node tests/browser/bench-page.mjs
// Knobs: BANNER_RUNS (30), PACED_RUNS (20 each way), FULL_SPEED_RUNS (30 each way),
// SPEECH_SERVER=same, SPEECH_PORT (3011) (see speechServer), SPEECH_CPU=shared (see separateCpus),
// SERVER_COPY=off.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { BASE_URL, BROWSER, Browser, newProfile } from './lib/browser.mjs';
import { turnCopyOn } from './lib/copy.mjs';
import { startGateway } from './lib/gateway.mjs';
import { EventLog, openDemo, recordEvents, start, tid, ttsUrl } from './lib/demo.mjs';

const BANNER_RUNS = Number(process.env.BANNER_RUNS ?? 30);
const PACED_RUNS = Number(process.env.PACED_RUNS ?? 20);
const FULL_SPEED_RUNS = Number(process.env.FULL_SPEED_RUNS ?? 30);
const SERVER_COPY = process.env.SERVER_COPY !== 'off';
/** The speech endpoint at full speed (the banner's page loads use it too), and at a server's pace. */
const FAST = { chunk_delay_ms: 0 };
const PACED = { chunk_delay_ms: 50 };

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;

// Runs in the page before its scripts: notes the first frame after the banner shows and the
// first after detect() filled it in, in ms since navigation start.
function watchBanner() {
  const b = (window.__bench = {});
  const check = () => {
    const banner = document.querySelector('[data-testid="recovery-banner"]');
    // Shown by the page script's hint (a class on <html>; the element may still be `hidden`), or
    // by the recovery check.
    const shown = [banner, document.querySelector('.cbr-first-paint')].some((el) => el?.checkVisibility());
    if (!shown) return;
    b.shownSeen = true;
    if (banner?.textContent.includes('Unsaved work was found.')) b.foundSeen = true;
  };
  // The figures: the first frame drawn with each, timed when its callbacks run (performance.now(),
  // not the callback's argument: that is when the frame began, which a long task can put well
  // before the frame is drawn). Checked at every frame too: a stylesheet that loads shows a marked
  // skeleton without changing the document.
  const everyFrame = () => {
    const now = performance.now();
    check();
    if (b.shownSeen) b.visible ??= now;
    if (b.foundSeen) b.found ??= now;
    if (b.found === undefined) requestAnimationFrame(everyFrame);
  };
  requestAnimationFrame(everyFrame);
  new MutationObserver(check).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
}

async function bannerFigures() {
  const profile = newProfile('bench-banner');
  // A session written, then the browser killed: a crash to offer on every later load.
  let { browser, page } = await start(profile, { tts: ttsUrl(FAST) });
  await page.fill(tid('tts-text'), 'Left behind by a crash.');
  await page.waitForSelector(`${tid('autosave-indicator')}[data-state="saved"]`, { timeout: 30_000 });
  await browser.kill();

  browser = await Browser.launch(profile);
  await browser.addInitScript(watchBanner);
  page = await browser.newPage();
  const visible = [];
  const found = [];
  // The first load fills the HTTP cache; the figures are the loads after it.
  for (let i = 0; i <= BANNER_RUNS; i++) {
    await openDemo(page, { query: { tts: ttsUrl(FAST) } });
    await page.waitForFunction(() => window.__bench?.found !== undefined, null, { timeout: 30_000 });
    const b = await page.evaluate(() => window.__bench);
    if (i === 0) continue;
    visible.push(b.visible);
    found.push(b.found);
  }
  await browser.kill();
  return { visible, found };
}

/** Whether the "Keep a copy on the server" switch is on in the page. */
const copyOn = (page) => page.evaluate((s) => document.querySelector(s)?.checked === true, tid('server-copy'));

/** The key under which both pages keep the TTS endpoint the user typed (`app.js`, `generate.ts`). */
const ENDPOINT_KEY = 'chatterbox-demo:tts-endpoint';

/**
 * One take's generation: from the click on Generate to the page's `generation` `done` event, and
 * the mean wait a part for the speech response's first bytes (the page's `tts` `start` to its
 * first `progress`), which tells a slower speech server apart from a slower page.
 */
async function generationMs(page, recovery) {
  await openDemo(page, { query: recovery ? {} : { recovery: 'off' } });
  if (recovery && (await copyOn(page)) !== SERVER_COPY) throw new Error(`the server copy is not ${SERVER_COPY ? 'on' : 'off'}`);
  const text = Array.from({ length: 20 }, (_, i) => `Part ${i + 1} of the benchmark take.`).join(' ');
  await page.fill(tid('tts-text'), text);
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        let parts = 0;
        const asked = new Map();
        const waits = [];
        addEventListener('demo:tts', (e) => {
          const { phase, index } = e.detail;
          if (phase === 'start') asked.set(index, performance.now());
          else if (phase === 'progress' && asked.has(index)) {
            waits.push(performance.now() - asked.get(index));
            asked.delete(index);
          }
        });
        addEventListener('demo:generation', (e) => {
          if (e.detail.phase === 'start') {
            parts = e.detail.parts;
          } else if (e.detail.phase === 'done') {
            const took = performance.now() - t0;
            if (parts !== 20) reject(new Error(`the take had ${parts} parts, not 20`));
            resolve({ took, ttfb: waits.reduce((a, b) => a + b, 0) / waits.length });
          }
        });
        // From the click: what the person waits for, the take's own commit included.
        const t0 = performance.now();
        document.querySelector('[data-testid="tts-generate"]').click();
      }),
  );
}

/** Runs `taskset` (util-linux) with `args`; false where it is missing or refused. */
function taskset(...args) {
  return spawnSync('taskset', args, { stdio: 'ignore' }).status === 0;
}

/** The pid of the process listening on TCP `port`, if `ss` (iproute2) shows it. */
function listener(port) {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  return out.match(/pid=(\d+)/)?.[1];
}

/**
 * The speech server for the generation figure. It stands in for a Chatterbox server, a machine of
 * its own; the API stands in for Lambda and the emulators for S3 and DynamoDB, AWS's machines. In
 * production none of them takes another's CPU. The gateway under test serves the API, the pages
 * and a speech endpoint in one process, so with that endpoint each part's copy requests
 * (`create-upload`, the document) took the speech server's CPU while it synthesised the next part:
 * in Firefox its time to first byte (Resource Timing) rose by about 1.5 ms a part with the copy on. So the speech
 * comes from a second gateway of its own (lib/gateway.mjs: the same binary, DEV_SPEECH=1, on
 * SPEECH_PORT), which the pages use as a TTS endpoint the user typed (kept in localStorage, as the
 * TTS endpoint field keeps it), cross-origin through the CORS the template sets.
 * `SPEECH_SERVER=same` uses the gateway's own endpoint, as before (and so does a run whose
 * environment cannot start a gateway). Resolves with
 * `{ url(knobs), pid, how, stop() }`.
 */
async function speechServer() {
  const own = (why) => ({ url: ttsUrl, pid: listener(new URL(BASE_URL).port || '80'), how: `the gateway's own speech endpoint (${why})`, stop: () => {} });
  if (process.env.SPEECH_SERVER === 'same') return own('SPEECH_SERVER=same');
  const port = Number(process.env.SPEECH_PORT ?? 3011);
  let server;
  try {
    server = await startGateway({
      port,
      env: { DEV_SPEECH: '1', ALLOWED_ORIGINS: new URL(BASE_URL).origin },
      what: 'the speech server',
    });
  } catch (e) {
    // The gateway binary needs the stack's settings in this environment (as `make run` and the
    // test suite set them); without them, the figure is taken the old way, and says so.
    return own(`no speech server of its own: ${String(e.message).split('\n')[0]}`);
  }
  const url = (knobs) => {
    const u = new URL('/v1/audio/speech', server.base);
    for (const [k, v] of Object.entries(knobs)) u.searchParams.set(k, String(v));
    return u.href;
  };
  return { url, pid: listener(port), how: `a speech server of its own on port ${port}`, stop: server.stop };
}

/**
 * The CPUs for the generation figure: none of the stand-ins for other machines runs on the cores
 * of the browser that asks them, nor takes the speech server's. The speech server gets the last
 * CPU; the gateway under test (the API, and the pages) and the processes listening on S3_PORT and
 * DYNAMODB_PORT (4566, 8000) share it at the idle priority (SCHED_IDLE: they run only while the
 * speech server waits); this script and its browser get the others. The figure then measures what
 * the client (and its server copy's requests) does to the generation path, not programs sharing
 * one machine's cores. With `SPEECH_SERVER=same` the gateway is the speech server and keeps the
 * normal priority. `SPEECH_CPU=shared` leaves every process on every CPU. Returns how it ended
 * up, and an undo.
 */
function separateCpus(speechPid) {
  const cpus = availableParallelism();
  const all = `0-${cpus - 1}`;
  if (process.env.SPEECH_CPU === 'shared' || cpus < 2 || !speechPid) {
    const why = process.env.SPEECH_CPU === 'shared' ? 'SPEECH_CPU=shared' : cpus < 2 ? 'one CPU' : 'no speech server process found';
    return { how: `shared CPUs (${why})`, undo: () => {} };
  }
  const others = [new URL(BASE_URL).port || '80', process.env.S3_PORT ?? '4566', process.env.DYNAMODB_PORT ?? '8000']
    .map(listener)
    .filter((p) => p && p !== speechPid);
  const servers = [speechPid, ...new Set(others)];
  const speechCpu = String(cpus - 1);
  const rest = cpus === 2 ? '0' : `0-${cpus - 2}`;
  const undo = () => {
    for (const p of servers) taskset('-a', '-p', '-c', all, p);
    taskset('-a', '-p', '-c', all, String(process.pid));
  };
  if (!servers.every((p) => taskset('-a', '-p', '-c', speechCpu, p)) || !taskset('-a', '-p', '-c', rest, String(process.pid))) {
    undo();
    return { how: 'shared CPUs (taskset refused)', undo: () => {} };
  }
  // Left at the idle priority afterwards: they are this run's own processes.
  const idle = others.filter((p) => spawnSync('chrt', ['-i', '-a', '-p', '0', p], { stdio: 'ignore' }).status === 0);
  return {
    how: `speech server (pid ${speechPid}) on CPU ${speechCpu}; gateway and emulators (${others.join(', ') || 'not found'}) beside it at ${idle.length === others.length ? 'idle' : 'normal'} priority; browser on CPU ${rest}`,
    undo,
  };
}

async function ttsFigures(knobs, runs) {
  const speech = await speechServer();
  const cpus = separateCpus(speech.pid);
  try {
    return { ...(await ttsRuns(speech.url(knobs), runs)), cpus: `${speech.how}; ${cpus.how}` };
  } finally {
    cpus.undo();
    speech.stop();
  }
}

async function ttsRuns(endpoint, runs) {
  // Launched after the CPUs are set: the browser's processes inherit this script's.
  const profile = newProfile('bench-tts');
  // Set up in a browser that records the page's events (turnCopyOn waits for them), closed the
  // normal way so that what the pages keep in localStorage (the endpoint, the switch) is on disk.
  const setUp = await Browser.launch(profile);
  const log = new EventLog();
  await recordEvents(setUp, log);
  const first = await setUp.newPage();
  await openDemo(first);
  // As if typed in the TTS endpoint field: both pages read it at start.
  await first.evaluate(([key, url]) => localStorage.setItem(key, url), [ENDPOINT_KEY, endpoint]);
  if (SERVER_COPY) await turnCopyOn(first, log);
  await setUp.close();
  // Measured in a browser that records nothing: each page event recorded through the driver costs
  // the browser's own process CPU time (in Firefox the remote agent runs in the parent process, on
  // the CPU the browser has here), and the client's page announces more events than the page
  // without it (a part committed, each status): about 300 ms of Firefox's parent process a take.
  const browser = await Browser.launch(profile);
  const page = await browser.newPage();
  await generationMs(page, true); // warm-up: cache, JIT, the endpoint (and its CORS preflight)
  const on = [];
  const off = [];
  for (let i = 0; i < runs; i++) {
    // Alternating, starting with each side in turn.
    if (i % 2 === 0) {
      on.push(await generationMs(page, true));
      off.push(await generationMs(page, false));
    } else {
      off.push(await generationMs(page, false));
      on.push(await generationMs(page, true));
    }
  }
  await browser.kill();
  return { on, off };
}

const banner = BANNER_RUNS > 0 ? await bannerFigures() : null;
const paced = PACED_RUNS > 0 ? await ttsFigures(PACED, PACED_RUNS) : null;
const fullSpeed = FULL_SPEED_RUNS > 0 ? await ttsFigures(FAST, FULL_SPEED_RUNS) : null;
const row = (name, value) => console.log(`${name.padEnd(56)} ${value}`);
console.log('');
row(`figure (${BROWSER})`, 'measured [target]');
if (banner) {
  row(
    `banner visible from navigation start, warm, p95 (${banner.visible.length} loads)`,
    `${ms(quantile(banner.visible, 0.95))} (p50 ${ms(quantile(banner.visible, 0.5))}) [<= 100 ms]`,
  );
  row(
    'banner confirmed by detect() from navigation start, p95',
    `${ms(quantile(banner.found, 0.95))} (p50 ${ms(quantile(banner.found, 0.5))})`,
  );
}
for (const [label, tts] of [['at a server\'s pace', paced], ['at full speed', fullSpeed]]) {
  if (!tts) continue;
  const took = (side) => tts[side].map((r) => r.took);
  const ttfb = (side) => tts[side].map((r) => r.ttfb);
  const onMed = quantile(took('on'), 0.5);
  const offMed = quantile(took('off'), 0.5);
  row(
    `20-part take ${label}, client${SERVER_COPY ? ' + server copy' : ''} on vs off, median (${tts.on.length} each)`,
    `on ${ms(onMed)}, off ${ms(offMed)}: ${(((onMed - offMed) / offMed) * 100).toFixed(2)} % [<= 1 % slower]`,
  );
  console.log(`  ${tts.cpus}`);
  console.log(`  wait for a part's first bytes, median: on ${ms(quantile(ttfb('on'), 0.5))}, off ${ms(quantile(ttfb('off'), 0.5))}`);
  console.log(`  raw on:  ${took('on').map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`  raw off: ${took('off').map((x) => x.toFixed(0)).join(' ')}`);
}
