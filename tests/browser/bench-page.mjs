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
// SPEECH_CPU=shared (see separateSpeechServer), SERVER_COPY=off.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { BASE_URL, BROWSER, Browser, newProfile } from './lib/browser.mjs';
import { turnCopyOn } from './lib/copy.mjs';
import { EventLog, openDemo, recordEvents, start, tid, ttsUrl } from './lib/demo.mjs';

const BANNER_RUNS = Number(process.env.BANNER_RUNS ?? 30);
const PACED_RUNS = Number(process.env.PACED_RUNS ?? 20);
const FULL_SPEED_RUNS = Number(process.env.FULL_SPEED_RUNS ?? 30);
const SERVER_COPY = process.env.SERVER_COPY !== 'off';
/** The speech endpoint at full speed (the banner's page loads use it too), and at a server's pace. */
const FAST = { tts: ttsUrl({ chunk_delay_ms: 0 }) };
const PACED = { tts: ttsUrl({ chunk_delay_ms: 50 }) };

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;

// Runs in the page before its scripts: notes the first frame after the banner shows and the
// first after detect() filled it in, in ms since navigation start.
function watchBanner() {
  window.__bench = {};
  const frameAfter = (key) =>
    requestAnimationFrame((t) => {
      window.__bench[key] ??= t;
    });
  const check = () => {
    const banner = document.querySelector('[data-testid="recovery-banner"]');
    // Shown by the page script's hint (a class on <html>; the element may still be `hidden`), or
    // by the recovery check.
    const shown = [banner, document.querySelector('.first-paint-banner')].some((el) => el?.checkVisibility());
    if (!shown) return;
    if (!window.__bench.shownSeen) {
      window.__bench.shownSeen = true;
      frameAfter('visible');
    }
    if (!window.__bench.foundSeen && banner?.textContent.includes('Unsaved work was found.')) {
      window.__bench.foundSeen = true;
      frameAfter('found');
    }
  };
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
  let { browser, page } = await start(profile, FAST);
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
    await openDemo(page, { query: FAST });
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

async function generationMs(page, recovery, speech) {
  await openDemo(page, { query: recovery ? speech : { ...speech, recovery: 'off' } });
  if (recovery && (await copyOn(page)) !== SERVER_COPY) throw new Error(`the server copy is not ${SERVER_COPY ? 'on' : 'off'}`);
  const text = Array.from({ length: 20 }, (_, i) => `Part ${i + 1} of the benchmark take.`).join(' ');
  await page.fill(tid('tts-text'), text);
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        let parts = 0;
        addEventListener('demo:generation', (e) => {
          if (e.detail.phase === 'start') {
            parts = e.detail.parts;
          } else if (e.detail.phase === 'done') {
            if (parts !== 20) reject(new Error(`the take had ${parts} parts, not 20`));
            resolve(performance.now() - t0);
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

/**
 * The CPUs for the generation figure. The speech endpoint stands in for a Chatterbox server, which
 * runs on a machine (a GPU) of its own, and the emulators for S3 and DynamoDB stand in for AWS, a
 * third party: none of them runs on the cores of the browser that asks them, nor on each other's.
 * So the process serving RECOVERY_BASE_URL (the gateway, which answers /v1/audio/speech and the
 * API) gets the last CPU, and the processes listening on S3_PORT and DYNAMODB_PORT (4566, 8000)
 * share it at the idle priority (SCHED_IDLE: they run only while the speech server waits), and
 * this script and its browser get the others. The figure then measures what the client (and its
 * server copy's requests) does to the generation path, not programs sharing one machine's cores.
 * `SPEECH_CPU=shared` leaves every process on every CPU. Returns how it ended up, and an undo.
 */
function separateSpeechServer() {
  const cpus = availableParallelism();
  const all = `0-${cpus - 1}`;
  const listener = (port) => {
    const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
    return out.match(/pid=(\d+)/)?.[1];
  };
  const gatewayPort = new URL(BASE_URL).port || '80';
  const pid = listener(gatewayPort);
  if (process.env.SPEECH_CPU === 'shared' || cpus < 2 || !pid) {
    const why = process.env.SPEECH_CPU === 'shared' ? 'SPEECH_CPU=shared' : cpus < 2 ? 'one CPU' : `no process found on port ${gatewayPort}`;
    return { how: `shared CPUs (${why})`, undo: () => {} };
  }
  const emulators = [process.env.S3_PORT ?? '4566', process.env.DYNAMODB_PORT ?? '8000']
    .map(listener)
    .filter((p) => p && p !== pid);
  const servers = [pid, ...new Set(emulators)];
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
  // Left at the idle priority afterwards: they are this run's own emulators.
  const idle = emulators.filter((p) => spawnSync('chrt', ['-i', '-a', '-p', '0', p], { stdio: 'ignore' }).status === 0);
  return {
    how: `gateway (pid ${pid}) on CPU ${speechCpu}, emulators (${emulators.join(', ') || 'not found'}) beside it at ${idle.length === emulators.length ? 'idle' : 'normal'} priority, browser on CPU ${rest}`,
    undo,
  };
}

async function ttsFigures(speech, runs) {
  const cpus = separateSpeechServer();
  try {
    return { ...(await ttsRuns(speech, runs)), cpus: cpus.how };
  } finally {
    cpus.undo();
  }
}

async function ttsRuns(speech, runs) {
  // Launched after the CPUs are set: the browser's processes inherit this script's.
  const browser = await Browser.launch(newProfile('bench-tts'));
  const log = new EventLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  if (SERVER_COPY) {
    await openDemo(page, { query: speech });
    await turnCopyOn(page, log);
  }
  await generationMs(page, true, speech); // warm-up: cache, JIT, the endpoint
  const on = [];
  const off = [];
  for (let i = 0; i < runs; i++) {
    // Alternating, starting with each side in turn.
    if (i % 2 === 0) {
      on.push(await generationMs(page, true, speech));
      off.push(await generationMs(page, false, speech));
    } else {
      off.push(await generationMs(page, false, speech));
      on.push(await generationMs(page, true, speech));
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
  const onMed = quantile(tts.on, 0.5);
  const offMed = quantile(tts.off, 0.5);
  row(
    `20-part take ${label}, client${SERVER_COPY ? ' + server copy' : ''} on vs off, median (${tts.on.length} each)`,
    `on ${ms(onMed)}, off ${ms(offMed)}: ${(((onMed - offMed) / offMed) * 100).toFixed(2)} % [<= 1 % slower]`,
  );
  console.log(`  ${tts.cpus}`);
  console.log(`  raw on:  ${tts.on.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`  raw off: ${tts.off.map((x) => x.toFixed(0)).join(' ')}`);
}
