// The kill-and-recover loop (kill-loop.test.mjs): the browser (Chromium or Firefox, E2E_BROWSER)
// is killed with SIGKILL at a random moment of typing, auto-saving and audio streaming, again and
// again on one profile. Every time, everything the page had committed
// before the kill (each text snapshot and each audio part it reported as stored) must come back;
// and everything that was typed at least 250 ms before the kill, whatever the page reported (the
// keystrokes are counted in Node, as they are sent), is checked too. Prints both figures (the
// second is the loss window).
import assert from 'node:assert/strict';
import { BROWSER, newProfile } from './browser.mjs';
import { readChunks, restoreFromModal, start, tid, ttsUrl } from './demo.mjs';

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

/** How long before a kill a keystroke must have been typed for its text to be owed back. */
const TYPED_MS = 250;

export { RUNS, TYPED_MS, WORDS, random };

/** An event's detail without its bulk (texts by length, ids cut short), for the miss report. */
function shortDetail(detail) {
  if (!detail || typeof detail !== 'object') return detail;
  return Object.fromEntries(Object.entries(detail).map(([k, v]) => [
    k,
    typeof v === 'string' && v.length > 12 ? `${v.slice(0, 8)}…(${v.length})` : Array.isArray(v) ? v.map((x) => String(x).slice(0, 8)) : v,
  ]));
}

/**
 * The loop. Asserts that everything committed before each kill came back, and everything typed
 * TYPED_MS before each kill (the loss window; misses are printed with what the page announced).
 */
export async function killLoop() {
  const rand = random(SEED);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const sentence = () => `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}. `.replace(/^./, (c) => c.toUpperCase());
  const profile = newProfile('loop');
  const query = { tts: ttsUrl({ chunks: 3, chunk_delay_ms: 40 }) };
  /** What was committed before the last kill, per session: text and audio parts by index. */
  let expected = new Map();
  /** What was typed at least TYPED_MS before the last kill, per session: the editor's text then. */
  let typed = new Map();
  let committedItems = 0;
  let recoveredItems = 0;
  const typedFigure = { kills: 0, checks: 0, back: 0, chars: 0, charsBack: 0 };
  const lost = [];
  const typedLost = [];
  /** What the page announced and what was typed in the run before the last kill, for a miss. */
  let lastRun = null;
  /** Starts after which the browser said it had deleted the origin's damaged IndexedDB. */
  const wiped = [];

  /** Restores every session owed back and counts what came back; `when` names the start. */
  async function check(when, page, log, ready) {
    // Chromium, now and then, finds its own IndexedDB files damaged after a SIGKILL ("checksum
    // mismatch") and deletes them (tests/browser/idb-kill.mjs shows it with no client at all).
    // Nothing can come back then; what is owed is that the page says so, truthfully.
    if (ready.dataLoss) {
      const told = (sel) => document.querySelector(sel)?.textContent.includes('deleted the work it had saved here');
      await page.waitForFunction(told, tid('tts-status'), { timeout: 10_000 }).catch(() => {});
      assert.ok(await page.evaluate(told, tid('tts-status')), `${when}: the page tells the user (${ready.dataLoss})`);
      wiped.push(`${when}: ${ready.dataLoss} (${expected.size + typed.size} sessions owed, none checked)`);
      return [];
    }
    const offered = new Set(ready.crashed);
    const ids = [...new Set([...expected.keys(), ...typed.keys()])];
    if (typed.size) typedFigure.kills++;
    for (const id of ids) {
      const want = expected.get(id) ?? { text: null, chunks: new Map() };
      const wantTyped = typed.get(id) ?? null;
      committedItems += (want.text === null ? 0 : 1) + want.chunks.size;
      if (wantTyped !== null) {
        typedFigure.checks++;
        typedFigure.chars += wantTyped.length;
      }
      if (!offered.has(id)) {
        const list = await page.evaluate(async () => window.chatterboxDemo.store.list());
        const state = list.find((s) => s.id === id);
        const stored = list.map((s) => [s.id.slice(0, 8), s.state]);
        lost.push(`${when}: session ${id} not offered: ${JSON.stringify(state)} expected ` +
          `${JSON.stringify({ text: want.text, typed: wantTyped, chunks: [...want.chunks.keys()] })}; ` +
          `stored: ${JSON.stringify(stored)}\n  the run before, up to the kill: ${JSON.stringify(lastRun)}`);
        continue;
      }
      const got = await restoreFromModal(page, log, id);
      if (want.text !== null) {
        if (got.text.startsWith(want.text)) recoveredItems++;
        else lost.push(`${when}: committed text of ${id}: ${JSON.stringify(got.text)} lacks ${JSON.stringify(want.text)}`);
      }
      if (wantTyped !== null) {
        if (got.text.startsWith(wantTyped)) {
          typedFigure.back++;
          typedFigure.charsBack += wantTyped.length;
        } else {
          typedLost.push(`${when}: typed text of ${id}: ${JSON.stringify(got.text)} lacks ${JSON.stringify(wantTyped)}\n` +
            `  the run before, up to the kill: ${JSON.stringify(lastRun)}`);
        }
      }
      const shown = new Map((await readChunks(page, id)).map((c) => [c.index, c]));
      for (const [index, c] of want.chunks) {
        if (shown.get(index)?.sha256 === c.sha256) recoveredItems++;
        else lost.push(`${when}: part ${index} of ${id}`);
      }
    }
    return ids;
  }

  for (let run = 1; run <= RUNS; run++) {
    const { browser, log, page, ready } = await start(profile, query);
    try {
      // 1. Everything committed or typed in time before the previous kill is offered, and restores.
      const ids = await check(`run ${run}`, page, log, ready);
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
      const carried = keep && expected.has(keep) ? new Map([[keep, expected.get(keep)]]) : new Map();
      // Sessions tidied away through the store are still listed by the page: the modal stays
      // open, and a person closes it before typing (while it is open the editor is inert).
      if (await page.isVisible(tid('recovery-modal'))) {
        await page.click(tid('recovery-close'));
        await page.waitForFunction((sel) => !document.querySelector(sel)?.open, tid('recovery-modal'));
      }

      // 2. Work on, and get killed somewhere in the middle of it. Every keystroke is logged with
      // the time the page had it, the session it went to and the text the editor then showed.
      const keys = [];
      const typeSentence = async () => {
        const base = await page.value(tid('tts-text'));
        const words = sentence();
        let id = null;
        await page.type(tid('tts-text'), words, {
          delay: 8,
          end: true,
          onKey: async (i, at) => {
            // The first keystroke may start a new session (a take's text was edited).
            if (i === 0) id = await page.evaluate(() => window.chatterboxDemo.currentId);
            keys.push({ at, id, text: base + words.slice(0, i + 1) });
          },
        });
      };
      const seqBefore = log.seq;
      const work = (async () => {
        if (run % 4 === 1) await page.click(tid('tts-new'));
        await typeSentence();
        await page.click(tid('tts-generate'));
        await log.waitFor('generation', (d) => d.phase !== 'start', { after: seqBefore });
        await typeSentence();
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
      const killedAt = Date.now();
      await browser.kill();
      lastRun = {
        killedAt,
        restored: ids.map((x) => x.slice(0, 8)),
        kept: keep?.slice(0, 8),
        events: log.events.slice(seqBefore).map(({ name, detail }) => [name, shortDetail(detail)]),
        keys: keys.map(({ at, id, text }) => [at, id?.slice(0, 8), text.length]),
      };
      expected = next;
      // The text of each session as of its last keystroke at least TYPED_MS before the kill.
      typed = new Map();
      for (const k of keys) if (k.at <= killedAt - TYPED_MS && k.id) typed.set(k.id, k.text);
      log.close();
      await work;
    } catch (e) {
      await browser.kill();
      throw e;
    }
  }

  // One more start to check what the last kill left.
  const { browser, log, page, ready } = await start(profile, query);
  await check('final', page, log, ready);
  await browser.kill();

  const pct = committedItems ? ((100 * recoveredItems) / committedItems).toFixed(1) : '100.0';
  const typedPct = typedFigure.checks ? ((100 * typedFigure.back) / typedFigure.checks).toFixed(1) : '100.0';
  console.log(`[${BROWSER}] kill-and-recover loop: ${RUNS} kills (seed ${SEED}); ${committedItems} checks of committed items ` +
    `(text snapshots and audio parts committed before a kill), ${recoveredItems} recovered: ${pct} %`);
  console.log(`[${BROWSER}] loss window: in ${typedFigure.kills} kills after typing, ${typedFigure.checks} sessions' text typed ` +
    `>= ${TYPED_MS} ms before the kill (${typedFigure.chars} characters), ${typedFigure.back} came back whole ` +
    `(${typedFigure.charsBack} characters): ${typedPct} %`);
  for (const l of typedLost) console.log(`[${BROWSER}] loss window miss: ${l}`);
  for (const w of wiped) console.log(`[${BROWSER}] the browser deleted its damaged IndexedDB, and the page said so: ${w}`);
  // A browser that loses its storage on most kills would make this loop prove nothing.
  assert.ok(wiped.length <= RUNS / 10, `the browser deleted its storage after ${wiped.length} of ${RUNS} kills`);
  assert.deepEqual(lost, []);
  assert.ok(committedItems >= RUNS, `the loop committed something to recover (${committedItems})`);
  assert.equal(recoveredItems, committedItems);
  // A kill in the first few hundred ms of a run comes before any keystroke is old enough.
  assert.ok(typedFigure.kills >= RUNS / 2, `typing came before most kills (${typedFigure.kills} of ${RUNS})`);
  assert.deepEqual(typedLost, []);
  assert.equal(typedFigure.back, typedFigure.checks);
}
