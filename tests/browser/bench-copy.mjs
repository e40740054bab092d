// The server copy's figures (issue 17, "Figures") on the demo page (DEMO_PATH: `/` or `/react/`)
// in Debian's Chromium or Firefox ESR (E2E_BROWSER, as the E2E tests) against a running gateway
// (RECOVERY_BASE_URL), with the page's "Keep a copy on the server" switch turned on:
//
// - the copy's lag: for each local commit of the session made while a person types steadily (one
//   key every 150–250 ms, at random), the time from its `demo:committed` event to the server's
//   answer (200/201) to the first document PUT sent after it, and to the first `backed-up`
//   indicator event after it, all taken in the page (`performance.now()`), p50 / p95 / max;
// - the document uploads per minute of that typing: the `PUT /api/recovery/sessions/{id}` requests
//   the page's `fetch` sent (counted by wrapping `fetch` in a script run before the page's own), and
//   the bytes they carried per minute (request bodies as sent: gzip), with the session's text at
//   10 KB and at 100 KB before the typing starts.
//
// Figures, not pass/fail: nothing here asserts a timing. Usage:
//   RECOVERY_BASE_URL=http://127.0.0.1:3000 E2E_BROWSER=chromium node tests/browser/bench-copy.mjs
// Knobs: TYPING_S (typing time per text size, 120), SIZES_KB (comma-separated, "10,100").
import { Browser, BROWSER, newProfile } from './lib/browser.mjs';
import { TimedLog, turnCopyOn } from './lib/copy.mjs';
import { DEMO_PATH, openDemo, recordEvents, tid, ttsUrl } from './lib/demo.mjs';

const TYPING_S = Number(process.env.TYPING_S ?? 120);
const SIZES_KB = (process.env.SIZES_KB ?? '10,100').split(',').map(Number);
const FAST = { tts: ttsUrl({ chunk_delay_ms: 0 }) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

// Runs in the page before its scripts: notes every document PUT the page's fetch sends (time and
// body size as sent), every session commit and every `backed-up` indicator event, in page time.
function watchCopy() {
  const b = { puts: [], commits: [], backedUp: [] };
  window.__copyBench = b;
  const size = (body) => body?.byteLength ?? body?.size ?? (typeof body === 'string' ? new TextEncoder().encode(body).length : -1);
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input?.url ?? String(input);
    const method = (init?.method ?? input?.method ?? 'GET').toUpperCase();
    // The document's own route only: not `/parts`, nor the presigned object-storage PUTs.
    if (method === 'PUT' && /\/api\/recovery\/sessions\/[^/?]+(\?|$)/.test(new URL(url, location.href).pathname + '?')) {
      const put = { t: performance.now(), bytes: size(init?.body), keepalive: Boolean(init?.keepalive), ack: null };
      b.puts.push(put);
      const answer = original.apply(this, arguments);
      answer.then(
        (res) => {
          if (res.status === 200 || res.status === 201) put.ack = performance.now();
        },
        () => {},
      );
      return answer;
    }
    return original.apply(this, arguments);
  };
  addEventListener('demo:committed', (e) => {
    if (e.detail?.kind === 'session') b.commits.push(performance.now());
  });
  addEventListener('demo:indicator', (e) => {
    if (e.detail?.state === 'backed-up') b.backedUp.push(performance.now());
  });
}

/**
 * `kb` KB of prose for the editor before the typing starts: words drawn at random (seeded) from a
 * small vocabulary, so that gzip shrinks it about as much as English text (a repeated sentence would
 * shrink to a few hundred bytes and flatter the bytes-per-minute figure).
 */
function prose(kb) {
  const words = ('the a of and to in is was that for on with as his her they at be this from have or by one had not but what all ' +
    'were when we there can an your which their said if do will each about how up out them then she many some so these would ' +
    'other into has more two like him see time could no make than first been its who now people my made over did down only way ' +
    'find use may water long little very after words called just where most know voice chapter reader narrator morning river ' +
    'garden window letter evening quietly suddenly remember story listen across between several because through before again')
    .split(' ');
  let seed = 17;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let out = '';
  while (out.length < kb * 1024) {
    const n = 6 + Math.floor(next() * 12);
    const sentence = Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join(' ');
    out += `${sentence[0].toUpperCase()}${sentence.slice(1)}. `;
  }
  return out.slice(0, kb * 1024);
}

async function run(kb) {
  const profile = newProfile(`bench-copy-${kb}`);
  const browser = await Browser.launch(profile);
  const log = new TimedLog();
  await recordEvents(browser, log);
  await browser.addInitScript(watchCopy);
  try {
    const page = await browser.newPage();
    await openDemo(page, { query: FAST });
    await log.waitFor('ready');
    await turnCopyOn(page, log);

    // The text before the typing, copied once: its first upload is not part of the figures.
    const seq = log.seq;
    await page.fill(tid('tts-text'), prose(kb));
    await log.waitFor('indicator', (d) => d.state === 'backed-up', { after: seq, timeout: 60_000 });
    await sleep(6_000);

    const t0 = await page.evaluate(() => performance.now());
    await page.focus(tid('tts-text'), { end: true });
    const keys = 'Steady typing, one key at a time. ';
    let i = 0;
    const end = Date.now() + TYPING_S * 1000;
    while (Date.now() < end) {
      const due = Date.now() + 150 + Math.random() * 100;
      await page.typeFocused(keys[i++ % keys.length]);
      const left = due - Date.now();
      if (left > 0) await sleep(left);
    }
    const t1 = await page.evaluate(() => performance.now());
    // Time for the last commits to be acknowledged (their lag counts too).
    await sleep(15_000);
    const b = await page.evaluate(() => window.__copyBench);

    const commits = b.commits.filter((t) => t >= t0 && t <= t1);
    // Two readings of "acknowledged": the answer (200/201) to the first document PUT sent after
    // the commit (the document it carries is read and gzipped before the request goes, so it holds
    // the commit), and the first `backed-up` the indicator announces after it (which waits for an
    // answer covering the *last* commit, so steady typing can postpone it past the first reading).
    const lags = [];
    const shown = [];
    let unacked = 0;
    for (const c of commits) {
      const ack = b.puts.find((p) => p.t >= c && p.ack !== null)?.ack;
      if (ack === undefined) unacked++;
      else lags.push(ack - c);
      const said = b.backedUp.find((t) => t >= c);
      if (said !== undefined) shown.push(said - c);
    }
    const puts = b.puts.filter((p) => p.t >= t0 && p.t <= t1);
    const minutes = (t1 - t0) / 60_000;
    return {
      kb,
      typedS: (t1 - t0) / 1000,
      keys: i,
      commits: commits.length,
      unacked,
      lag: lags.length ? { p50: quantile(lags, 0.5), p95: quantile(lags, 0.95), max: Math.max(...lags) } : null,
      shown: shown.length ? { p50: quantile(shown, 0.5), p95: quantile(shown, 0.95), max: Math.max(...shown), n: shown.length } : null,
      putMs: puts.filter((p) => p.ack !== null).map((p) => p.ack - p.t),
      putsPerMin: puts.length / minutes,
      bytesPerMin: puts.reduce((s, p) => s + Math.max(0, p.bytes), 0) / minutes,
      meanPutBytes: puts.length ? puts.reduce((s, p) => s + p.bytes, 0) / puts.length : 0,
      unknownSizes: puts.filter((p) => p.bytes < 0).length,
    };
  } finally {
    await browser.kill();
  }
}

const version = await (async () => {
  const profile = newProfile('bench-copy-version');
  const browser = await Browser.launch(profile);
  try {
    const page = await browser.newPage();
    return await page.evaluate(() => navigator.userAgent);
  } finally {
    await browser.kill();
  }
})();
console.log(`# server copy, ${BROWSER} (${version}), page ${DEMO_PATH}, typing ${TYPING_S} s per size`);
for (const kb of SIZES_KB) {
  const r = await run(kb);
  const ms = (x) => `${Math.round(x)} ms`;
  console.log(
    `${BROWSER} ${DEMO_PATH} ${kb} KB: ${r.keys} keys in ${r.typedS.toFixed(1)} s, ${r.commits} commits` +
      (r.lag ? `; lag commit→copy acknowledged p50 ${ms(r.lag.p50)}, p95 ${ms(r.lag.p95)}, max ${ms(r.lag.max)}` : '; no lag measured') +
      (r.shown ? `; commit→indicator backed-up p50 ${ms(r.shown.p50)}, p95 ${ms(r.shown.p95)}, max ${ms(r.shown.max)}` : '; the indicator never said backed-up') +
      (r.putMs.length ? `; PUT round trip p50 ${ms(quantile(r.putMs, 0.5))}, max ${ms(Math.max(...r.putMs))}` : '') +
      (r.unacked ? ` (${r.unacked} commits never acknowledged)` : '') +
      `; ${r.putsPerMin.toFixed(1)} document PUTs/min, ${Math.round(r.bytesPerMin)} B/min uploaded (mean body ${Math.round(r.meanPutBytes)} B)` +
      (r.unknownSizes ? `; ${r.unknownSizes} bodies of unknown size` : ''),
  );
  console.log(`JSON ${JSON.stringify({ browser: BROWSER, page: DEMO_PATH, ...r })}`);
}
process.exit(0);
