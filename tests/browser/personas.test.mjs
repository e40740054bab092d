// The three personas of the product, each in a real browser (Chromium or Firefox, E2E_BROWSER)
// that is killed with SIGKILL and started again on the same profile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProfile } from './lib/browser.mjs';
import {
  committedChunks, decodeChunks, demoUrl, lastCommittedSession, openDemo, readChunks, readEditor, restoreFromModal,
  setSettings, start, tid, ttsUrl,
} from './lib/demo.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('writer: after a kill the banner is shown (in the first paint when the start-up hint survived) and restore brings text, voice and parameters back exactly', async () => {
  const profile = newProfile('writer');
  let { browser, log, page } = await start(profile);
  const text = 'Chapter one. The lighthouse keeper counted the ships — “seven”, she wrote, then crossed it out.';
  await page.type(tid('tts-text'), text, { delay: 5 });
  await setSettings(page, { voice: 'olivia', exaggeration: 1.35, cfgWeight: 0.3, temperature: 1.2, seed: 12345 });
  const want = { text, voice: 'olivia', exaggeration: '1.35', cfgWeight: '0.3', temperature: '1.2', seed: '12345' };
  // The writer stops typing; the auto-save commits what the editor shows.
  const saved = await log.waitFor('committed', (d) =>
    d.kind === 'session' && d.text === text && d.voiceId === 'olivia' && d.params.seed === 12345 &&
    d.params.exaggeration === 1.35 && d.params.cfgWeight === 0.3 && d.params.temperature === 1.2);
  const id = saved.detail.id;
  await browser.kill();

  ({ browser, log, page } = await start(profile));
  assert.deepEqual((await log.waitFor('ready')).detail.crashed, [id]);
  assert.ok(await page.isVisible(tid('recovery-banner')), 'the banner is shown');
  const paint = await firstPaint(page);
  // The localStorage hint is cheap to lose: a write made seconds before a SIGKILL may not reach
  // the disk. When it survived, the banner is part of the first paint; when it did not, the page
  // is shown at once (never hidden while recovery looks) and the banner follows the check.
  if (paint.hinted) {
    assert.ok(paint.banner <= paint.fcp, `banner shown at ${paint.banner} ms, first contentful paint at ${paint.fcp} ms`);
  } else {
    console.log(`# hint lost with the kill: first paint at ${paint.fcp.toFixed(0)} ms, banner at ${paint.banner.toFixed(0)} ms (from ${paint.from ? "the hint's IndexedDB read" : 'the check'})`);
  }
  // Reloaded with the session still on offer: that close was not a clean exit, so the hint holds
  // (written by a live page this time) and the banner is part of the first paint.
  const reloaded = log.seq;
  await openDemo(page);
  assert.deepEqual((await log.waitFor('ready', () => true, { after: reloaded })).detail.crashed, [id]);
  const again = await firstPaint(page);
  assert.ok(again.hinted, 'a reload with unsaved work still on offer shows the banner from the hint');
  assert.ok(again.banner <= again.fcp, `after a reload: banner at ${again.banner} ms, first contentful paint at ${again.fcp} ms`);

  await restoreFromModal(page, log, id);
  assert.deepEqual(await readEditor(page), want);
  assert.ok(!(await page.isVisible(tid('recovery-banner'))), 'nothing left to recover');
  await browser.kill();
});

/** When the page first painted, when its banner showed, and whether the start-up hint showed it. */
async function firstPaint(page) {
  // The paint timing entry is queued once the frame is presented, which can trail the page's
  // own ready event on a busy machine.
  await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0, null, { timeout: 15_000 });
  const paint = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    banner: Number(document.querySelector('[data-testid="recovery-banner"]').dataset.shownAt),
    // The localStorage index's hint, in the first paint; not a mark from the hint's IndexedDB read
    // (`data-recovery-hint-from`: the kill took the index's last write), which can come after it.
    hinted: document.documentElement.dataset.recoveryHintAt !== undefined && document.documentElement.dataset.recoveryHintFrom === undefined,
    from: document.documentElement.dataset.recoveryHintFrom,
  }));
  assert.ok(Number.isFinite(paint.fcp), 'the page has painted');
  assert.ok(Number.isFinite(paint.banner), 'the banner records when it was shown');
  return paint;
}

/** Starts a take of several parts; resolves with its session id. */
async function startTake(page, log, text) {
  await page.fill(tid('tts-text'), text);
  const after = log.seq;
  await page.click(tid('tts-generate'));
  return (await log.waitFor('generation', (d) => d.phase === 'start', { after })).detail;
}

/** Restores `id` and checks every committed part came back, in order, byte for byte, playable. */
async function expectRestoredParts(page, log, id, committed) {
  const restored = await restoreFromModal(page, log, id);
  const shown = await readChunks(page, id);
  assert.deepEqual(shown.map((c) => c.index), [...shown.keys()], 'parts in order from the first');
  for (const [index, c] of committed) {
    assert.equal(shown[index]?.sha256, c.sha256, `part ${index} comes back byte for byte`);
  }
  for (const d of await decodeChunks(page, id)) {
    assert.ok(d.seconds > 0, `part ${d.index} decodes: ${d.error ?? d.seconds}`);
  }
  return { restored, shown };
}

/** Clicks Generate on a restored take: it must resume at the first missing part and finish. */
async function expectResume(page, log, id, firstMissing, parts) {
  assert.equal(await page.text(tid('tts-generate')), `Resume from part ${firstMissing + 1}`);
  const after = log.seq;
  await page.click(tid('tts-generate'));
  const started = await log.waitFor('generation', (d) => d.phase === 'start' && d.id === id, { after });
  assert.equal(started.detail.from, firstMissing, 'resumes at the first missing part');
  const firstRequest = await log.waitFor('tts', (d) => d.phase === 'start' && d.id === id, { after });
  assert.equal(firstRequest.detail.index, firstMissing, 'asks the TTS endpoint for that part first');
  await log.waitFor('generation', (d) => d.phase === 'stored' && d.id === id, { after });
  const all = await readChunks(page, id);
  assert.deepEqual(all.map((c) => c.index), [...Array(parts).keys()]);
}

const LONG_TEXT = 'The storm came in at dusk. Rain hammered the windows. ' +
  'Nobody in the village slept that night. By morning the river had risen. And the bridge was gone.';

test('long-form producer: a kill mid-stream keeps every part received before it, and generation resumes from the first missing part', async () => {
  const profile = newProfile('producer');
  // Slow enough that the kill lands while a part is streaming in.
  const query = { tts: ttsUrl({ chunks: 4, chunk_delay_ms: 300 }) };
  let { browser, log, page } = await start(profile, query);
  const { id, parts } = await startTake(page, log, LONG_TEXT);
  assert.equal(parts, 5);
  await log.waitFor('committed', (d) => d.kind === 'chunk' && d.id === id && d.index === 1);
  // Part 3 has started arriving: kill now, mid-stream.
  await log.waitFor('tts', (d) => d.phase === 'progress' && d.id === id && d.index === 2 && d.received > 0);
  const committed = committedChunks(log, id);
  await browser.kill();
  assert.ok(committed.size >= 2);

  ({ browser, log, page } = await start(profile, query));
  const { shown } = await expectRestoredParts(page, log, id, committed);
  assert.ok(shown.length < parts, 'the part being streamed at the kill is not there');
  await expectResume(page, log, id, shown.length, parts);
  await browser.kill();
});

test('long-form producer: a TTS endpoint that cuts the stream mid-way loses no received part, and a restart resumes from the first missing one', async () => {
  const profile = newProfile('cut');
  const query = { tts: ttsUrl({ chunks: 4, chunk_delay_ms: 100 }) };
  let { browser, log, page } = await start(profile, query);
  const { id, parts } = await startTake(page, log, LONG_TEXT);
  await log.waitFor('committed', (d) => d.kind === 'chunk' && d.id === id && d.index === 0);
  // From the next request on, the endpoint drops the connection after two of four pieces.
  await page.click('details.endpoint summary');
  await page.fill(tid('tts-endpoint'), ttsUrl({ chunks: 4, chunk_delay_ms: 100, cut_after: 2 }));
  const cut = await log.waitFor('generation', (d) => d.phase === 'interrupted' && d.id === id);
  const committed = committedChunks(log, id);
  assert.equal(committed.size, cut.detail.index, 'every part before the cut was stored');
  assert.match(await page.text(tid('tts-status')), /failed at part/);
  assert.deepEqual((await readChunks(page, id)).map((c) => c.stored), Array(committed.size).fill('true'));
  await browser.kill();

  ({ browser, log, page } = await start(profile, query));
  const { shown } = await expectRestoredParts(page, log, id, committed);
  assert.equal(shown.length, committed.size);
  await expectResume(page, log, id, committed.size, parts);
  await browser.kill();
});

test('returning user: a server backup recovered by token on a fresh profile is byte-identical, and says "expired" after the token lifetime', async () => {
  // Long enough to outlast the fresh browser's start, so that the expired attempt comes right
  // after the expiry: the local DynamoDB's TTL sweeper deletes an expired token's record within
  // seconds, and a deleted record reads "not found", not "expired" (a server matter).
  const ttl = 15;
  const first = await start(newProfile('backup'), { tts: ttsUrl({ chunk_delay_ms: 0 }) });
  let { page, log } = first;
  const { id } = await startTake(page, log, 'Welcome back. Your audio was kept safe. Here it is again.');
  await log.waitFor('generation', (d) => d.phase === 'stored' && d.id === id);
  const original = await readChunks(page, id);
  await page.click(tid('server-backup'));
  const { token } = (await log.waitFor('backup', (d) => d.id === id)).detail;
  assert.equal(await page.text(tid('server-token')), token);

  // A second take backed up with a token that lives `ttl` seconds.
  await page.goto(demoUrl({ backup_ttl: ttl, tts: ttsUrl({ chunk_delay_ms: 0 }) }));
  await page.waitForSelector('html[data-ready="true"]');
  const short = await startTake(page, log, 'This copy will not last.');
  await log.waitFor('generation', (d) => d.phase === 'stored' && d.id === short.id);
  const after = log.seq;
  await page.click(tid('server-backup'));
  const shortBackup = (await log.waitFor('backup', (d) => d.id === short.id, { after })).detail;
  await first.browser.kill();

  const fresh = await start(newProfile('fresh'));
  ({ page, log } = fresh);
  // Past the short token's lifetime an attempt reports the audio expired.
  // Typed in first and sent right after the expiry (the server refuses it from `expires_at` on):
  // the emulator's TTL sweeper deletes an expired record within seconds, and then it would read
  // "not found".
  const expiresAt = Number(shortBackup.expiresAt) || Date.parse(shortBackup.expiresAt) / 1000;
  const seq = log.seq;
  await page.fill(`${tid('server-recover')} input`, shortBackup.token);
  while (Date.now() / 1000 < expiresAt + 0.2) await sleep(50);
  await page.click(`${tid('server-recover')} button`);
  assert.equal((await log.waitFor('recovered', () => true, { after: seq })).detail.audio, 'expired');
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'expired');
  assert.match(await page.text(tid('server-message')), /expired/);

  // The first token brings the take back.
  const before = log.seq;
  await page.fill(`${tid('server-recover')} input`, token);
  await page.click(`${tid('server-recover')} button`);
  const recovered = (await log.waitFor('recovered', () => true, { after: before })).detail;
  assert.equal(recovered.audio, 'restored');
  assert.deepEqual(
    recovered.chunks.map(({ index, sha256, bytes }) => ({ index, sha256, bytes })),
    original.map(({ index, sha256, bytes }) => ({ index, sha256, bytes })),
    'the same parts, byte for byte',
  );
  assert.equal(await page.attr(tid('recovery-progress'), 'value'), '1');
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'restored');
  for (const d of await decodeChunks(page, recovered.id)) assert.ok(d.seconds > 0, `part ${d.index} decodes`);

  await fresh.browser.kill();
});
