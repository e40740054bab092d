// The kill-and-recover loop: the browser (Chromium or Firefox, E2E_BROWSER) is killed with SIGKILL
// at a random moment of typing, auto-saving and audio streaming, again and again on one profile.
// Every time, everything the page had committed before the kill (each text snapshot and each
// audio part it reported as stored) must come back. Prints the figure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProfile } from './lib/browser.mjs';
import { readChunks, restoreFromModal, start, tid, ttsUrl } from './lib/demo.mjs';

const RUNS = Number(process.env.KILL_LOOP_RUNS ?? 50);
const SEED = Number(process.env.KILL_LOOP_SEED ?? Date.now() % 1e9);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: reproducible randomness from KILL_LOOP_SEED. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'storm river bridge lantern harbour signal quiet morning letter garden window silver'.split(' ');

test(`kill-and-recover loop: ${RUNS} SIGKILLs, everything committed before each comes back`, async () => {
  const rand = random(SEED);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const sentence = () => `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}. `.replace(/^./, (c) => c.toUpperCase());
  const profile = newProfile('loop');
  const query = { tts: ttsUrl({ chunks: 3, chunk_delay_ms: 40 }) };
  /** What was committed before the last kill, per session: text and audio parts by index. */
  let expected = new Map();
  let committedItems = 0;
  let recoveredItems = 0;
  const lost = [];

  for (let run = 1; run <= RUNS; run++) {
    const { browser, log, page, ready } = await start(profile, query);
    try {
      // 1. Everything committed before the previous kill is offered, and restores.
      const offered = new Set(ready.crashed);
      const ids = [...expected.keys()];
      for (const id of ids) {
        const want = expected.get(id);
        committedItems += (want.text === null ? 0 : 1) + want.chunks.size;
        if (!offered.has(id)) {
          const state = await page.evaluate(async (id) => (await window.chatterboxDemo.store.list()).find((s) => s.id === id), id);
          lost.push(`run ${run}: session ${id} not offered: ${JSON.stringify(state)} expected ${JSON.stringify({ ...want, chunks: [...want.chunks.keys()] })}`);
          continue;
        }
        const got = await restoreFromModal(page, log, id);
        if (want.text !== null) {
          if (got.text.startsWith(want.text)) recoveredItems++;
          else lost.push(`run ${run}: text of ${id}: ${JSON.stringify(got.text)} lacks ${JSON.stringify(want.text)}`);
        }
        const shown = new Map((await readChunks(page, id)).map((c) => [c.index, c]));
        for (const [index, c] of want.chunks) {
          if (shown.get(index)?.sha256 === c.sha256) recoveredItems++;
          else lost.push(`run ${run}: part ${index} of ${id}`);
        }
      }
      // Sessions whose commit was not reported before the kill cannot be checked: tidy them away.
      await page.evaluate(async (known) => {
        const { store } = window.chatterboxDemo;
        for (const s of await store.detect()) if (!known.includes(s.id)) await store.delete(s.id);
      }, ids);
      // Keep the profile small: only the session restored last goes on.
      const keep = ids.at(-1);
      await page.evaluate(async (others) => {
        for (const id of others) await window.chatterboxDemo.store.delete(id);
      }, ids.filter((id) => id !== keep));
      const carried = keep ? new Map([[keep, expected.get(keep)]]) : new Map();

      // 2. Work on, and get killed somewhere in the middle of it.
      const seqBefore = log.seq;
      const work = (async () => {
        if (run % 4 === 1) await page.click(tid('tts-new'));
        await page.type(tid('tts-text'), sentence(), { delay: 8, end: true });
        await page.click(tid('tts-generate'));
        await log.waitFor('generation', (d) => d.phase !== 'start', { after: seqBefore });
        await page.type(tid('tts-text'), sentence(), { delay: 8, end: true });
      })().catch(() => {});
      await sleep(150 + rand() * 2500);

      // Everything reported committed up to now was committed before the kill.
      const next = new Map([...carried].map(([id, v]) => [id, { text: v.text, chunks: new Map(v.chunks) }]));
      // (Commits of the restore phase above are of sessions deleted or carried already.)
      for (const { detail } of log.all('committed').filter((e) => e.seq >= seqBefore)) {
        const entry = next.get(detail.id) ?? { text: null, chunks: new Map() };
        if (detail.kind === 'session') entry.text = detail.text;
        else entry.chunks.set(detail.index, detail);
        next.set(detail.id, entry);
      }
      expected = next;
      await browser.kill();
      log.close();
      await work;
    } catch (e) {
      await browser.kill();
      throw e;
    }
  }

  // One more start to check what the last kill left.
  const { browser, log, page, ready } = await start(profile, query);
  for (const [id, want] of expected) {
    committedItems += (want.text === null ? 0 : 1) + want.chunks.size;
    if (!ready.crashed.includes(id)) {
      lost.push(`final: session ${id} not offered`);
      continue;
    }
    const got = await restoreFromModal(page, log, id);
    if (want.text !== null) {
      if (got.text.startsWith(want.text)) recoveredItems++;
      else lost.push(`final: text of ${id}`);
    }
    const shown = new Map((await readChunks(page, id)).map((c) => [c.index, c]));
    for (const [index, c] of want.chunks) {
      if (shown.get(index)?.sha256 === c.sha256) recoveredItems++;
      else lost.push(`final: part ${index} of ${id}`);
    }
  }
  await browser.kill();

  const pct = committedItems ? ((100 * recoveredItems) / committedItems).toFixed(1) : '100.0';
  console.log(`kill-and-recover loop: ${RUNS} kills (seed ${SEED}); ${committedItems} checks of committed items ` +
    `(text snapshots and audio parts committed before a kill), ${recoveredItems} recovered: ${pct} %`);
  assert.deepEqual(lost, []);
  assert.ok(committedItems >= RUNS, `the loop committed something to recover (${committedItems})`);
  assert.equal(recoveredItems, committedItems);
});
