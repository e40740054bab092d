// The kill loop with the server copy on and the profile's IndexedDB deleted before every relaunch
// (as Chromium deletes it after a damaged kill, or a wiped profile): nothing on the device
// survives, so everything owed comes back from the server's copy, through the list the page
// offers. Owed: the text typed at least COPY_MS before each kill and every audio part committed
// at least COPY_MS before it (the copy's schedule: one document upload per 5 s while typing).
// Unlike the local loop (kill-loop.test.mjs), a lost start is not tolerated: the copy is there
// precisely for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_URL, BROWSER, newProfile } from './lib/browser.mjs';
import { startTimed, turnCopyOn } from './lib/copy.mjs';
import { readChunks, tid, ttsUrl } from './lib/demo.mjs';
import { deleteIndexedDB } from './lib/faults.mjs';
import { WORDS, random } from './lib/kill-loop.mjs';

const RUNS = Number(process.env.COPY_KILL_RUNS ?? 6);
/**
 * How long before a kill text must have been typed to be owed back from the copy. The issue says
 * 5 s, which is also the copy's interval (one document upload per 5 s while typing): a keystroke
 * committed just after an upload's snapshot rides on the next upload, 5 s later, and is
 * acknowledged a round trip after that. So the bound the schedule can keep is 5 s + the local
 * commit + the upload's round trip, not 5 s; at exactly 5 s a kill in that gap loses the last
 * characters (seen: "…letter. S" back, "…letter. Si" owed). COPY_KILL_MS=5000 shows it; the loop
 * prints the widest gap it saw either way.
 */
const COPY_MS = Number(process.env.COPY_KILL_MS ?? 6_000);
const SEED = Number(process.env.KILL_LOOP_SEED ?? Date.now() % 1e9);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const COPY_STATES = ['copy-pending', 'backed-up', 'offline', 'copy-error'];

test(`server-copy kill loop: ${RUNS} SIGKILLs, IndexedDB deleted before each relaunch; text typed and parts committed ${COPY_MS} ms before each kill come back from the copy (${BROWSER})`, async () => {
  const rand = random(SEED);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const sentence = () => `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}. `.replace(/^./, (c) => c.toUpperCase());
  const profile = newProfile('copy-loop');
  const query = { tts: ttsUrl({ chunks: 3, chunk_delay_ms: 40 }) };
  /** Per session owed back: `text` (typed COPY_MS before a kill) and `chunks` (index -> sha256). */
  const owed = new Map();
  const figure = { texts: 0, textsBack: 0, parts: 0, partsBack: 0, typedChars: 0, widestGap: 0 };
  /** The keystrokes of the run before the last kill, and when it was. */
  let prev = { keys: [], killedAt: 0 };
  const lost = [];
  let lastRun = null;

  for (let run = 1; run <= RUNS + 1; run++) {
    const { browser, log, page, ready } = await startTimed(profile, query);
    try {
      if (run === 1) {
        await turnCopyOn(page, log);
      } else {
        assert.equal(ready.serverCopy, true, `run ${run}: the switch survived the wipe`);
        assert.deepEqual(ready.crashed, [], `run ${run}: nothing is left on the device`);
        const offered = (await log.waitFor('server-copies', () => true, { timeout: 30_000 })).detail.ids;
        for (const [id, want] of owed) {
          if (!offered.includes(id)) {
            lost.push(`run ${run}: session ${id} not offered (offered ${offered.join(', ')}); owed ${JSON.stringify({ text: want.text, parts: [...want.chunks.keys()] })}\n  the run before: ${JSON.stringify(lastRun)}`);
            continue;
          }
          const seq = log.seq;
          await page.click(`${tid('server-copy-item')}[data-session-id="${id}"] ${tid('server-copy-restore')}`);
          const got = (await log.waitFor('recovered', (d) => d.via === 'copy', { after: seq, timeout: 30_000 })).detail;
          if (got.audio !== 'restored') {
            lost.push(`run ${run}: session ${id} did not restore: ${JSON.stringify(got)}`);
            continue;
          }
          // The copy's gap at the kill: how old the first keystroke it lacks was.
          const missing = prev.keys.find((k) => k.id === id && !got.text?.startsWith(k.text));
          if (missing) figure.widestGap = Math.max(figure.widestGap, prev.killedAt - missing.at);
          if (want.text !== null) {
            figure.texts++;
            if (got.text?.startsWith(want.text)) figure.textsBack++;
            else lost.push(`run ${run}: text of ${id}: ${JSON.stringify(got.text)} lacks ${JSON.stringify(want.text)}\n  the run before: ${JSON.stringify(lastRun)}`);
          }
          const shown = new Map((await readChunks(page, got.id)).map((c) => [c.index, c.sha256]));
          for (const [index, sha256] of want.chunks) {
            figure.parts++;
            if (shown.get(index) === sha256) figure.partsBack++;
            else lost.push(`run ${run}: part ${index} of ${id} (${shown.has(index) ? 'different bytes' : 'missing'})`);
          }
          // With nothing left on the device no local session can share its id: it keeps its own.
          if (got.id !== id) lost.push(`run ${run}: session ${id} restored under another id (${got.id})`);
        }
      }
      if (run === RUNS + 1) break;

      // What was owed before this start has been checked: from now on only this run's work is.
      owed.clear();

      // Work: a sentence, a take of it (its parts), then typing on; killed 8 to 10 s in.
      const keys = [];
      const start = log.seq;
      const stop = { now: false };
      const work = (async () => {
        if (run % 3 === 1) await page.click(tid('tts-new'));
        // A sentence pasted and a take of it at once, so that its parts are committed early
        // enough to be owed even where typing is slow (Firefox over BiDi, a loaded machine).
        const base = await page.value(tid('tts-text'));
        const pasted = base + sentence();
        await page.fill(tid('tts-text'), pasted);
        keys.push({ at: Date.now(), id: await page.evaluate(() => window.chatterboxDemo.currentId), text: pasted });
        let generated = false;
        while (!stop.now) {
          if (!generated) {
            generated = true;
            const seq = log.seq;
            await page.click(tid('tts-generate'));
            await log.waitFor('generation', (d) => d.phase !== 'start', { after: seq });
          }
          const words = sentence();
          const base = await page.value(tid('tts-text'));
          let id = null;
          await page.type(tid('tts-text'), words, {
            delay: 15,
            end: true,
            onKey: async (i, at) => {
              if (i === 0) id = await page.evaluate(() => window.chatterboxDemo.currentId);
              keys.push({ at, id, text: base + words.slice(0, i + 1) });
            },
          });
        }
      })().catch(() => {});
      await sleep(8_000 + rand() * 2_000);
      stop.now = true;
      const killedAt = Date.now();
      await browser.kill();
      log.close();
      await work;
      const due = killedAt - COPY_MS;
      for (const k of keys) if (k.at <= due && k.id) owed.set(k.id, { text: k.text, chunks: owed.get(k.id)?.chunks ?? new Map() });
      for (const e of log.events.slice(start)) {
        if (e.name === 'committed' && e.detail.kind === 'chunk' && e.at <= due) {
          const entry = owed.get(e.detail.id) ?? { text: null, chunks: new Map() };
          entry.chunks.set(e.detail.index, e.detail.sha256);
          owed.set(e.detail.id, entry);
        }
      }
      figure.typedChars = Math.max(figure.typedChars, ...[...owed.values()].map((o) => o.text?.length ?? 0));
      prev = { keys, killedAt };
      // For a miss: the copy's own states and the takes, in ms before the kill, and the last
      // keystroke owed.
      lastRun = {
        copy: log.events.slice(start)
          .filter((e) => (e.name === 'indicator' && COPY_STATES.includes(e.detail.state)) || (e.name === 'generation'))
          .map((e) => `${e.at - killedAt} ${e.detail.state ?? e.detail.phase}`).join(', '),
        lastOwedKey: keys.filter((k) => k.at <= due).at(-1)?.at - killedAt,
      };
      deleteIndexedDB(profile, BASE_URL);
    } catch (e) {
      await browser.kill();
      throw e;
    }
  }
  console.log(`[${BROWSER}] server-copy kill loop: ${RUNS} kills (seed ${SEED}), IndexedDB deleted before each start: ` +
    `${figure.textsBack}/${figure.texts} texts typed >= ${COPY_MS} ms before a kill and ${figure.partsBack}/${figure.parts} parts ` +
    `committed >= ${COPY_MS} ms before came back from the server copy; the widest gap at a kill: the copy lacked ` +
    `keystrokes up to ${figure.widestGap} ms old`);
  for (const l of lost) console.log(`[${BROWSER}] server-copy kill loop miss: ${l}`);
  assert.equal(lost.length, 0, `${lost.length} misses (printed above)`);
  assert.ok(figure.texts >= RUNS, `texts were owed back (${figure.texts})`);
  assert.ok(figure.parts >= 1, `parts were owed back (${figure.parts})`);
});
