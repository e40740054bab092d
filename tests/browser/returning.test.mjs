// The returning user, whole session: backed up on one browser profile, recovered by token on a
// fresh one, the editor shows the same text, voice and every parameter, and every part comes back
// byte for byte, playable; past the token's life the same attempt says "expired".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWSER, newProfile } from './lib/browser.mjs';
import { decodeChunks, demoUrl, readChunks, readEditor, setSettings, start, tid, ttsUrl } from './lib/demo.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FAST = ttsUrl({ chunk_delay_ms: 0 });

/** Generates a take of `text` with the editor's settings; resolves with its session id. */
async function generateTake(page, log, text) {
  await page.fill(tid('tts-text'), text);
  const after = log.seq;
  await page.click(tid('tts-generate'));
  const { id } = (await log.waitFor('generation', (d) => d.phase === 'start', { after })).detail;
  await log.waitFor('generation', (d) => d.phase === 'stored' && d.id === id, { after });
  return id;
}

/** Clicks "Back up"; resolves with the demo:backup event's detail. */
async function backUp(page, log, id) {
  const after = log.seq;
  await page.click(tid('server-backup'));
  const backup = (await log.waitFor('backup', (d) => d.id === id, { after })).detail;
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'backed-up', await page.text(tid('server-message')));
  return backup;
}

/** Recovers by `token`; with `at` (epoch seconds), the token is typed in first and sent then. */
async function recover(page, log, token, { at = 0 } = {}) {
  const after = log.seq;
  await page.fill(`${tid('server-recover')} input`, token);
  while (Date.now() / 1000 < at) await sleep(50);
  await page.click(`${tid('server-recover')} button`);
  return (await log.waitFor('recovered', () => true, { after })).detail;
}

test(`returning user: the whole session backed up on profile A comes back on fresh profile B — text, voice, every parameter, every part byte for byte — and "expired" after the token's life (${BROWSER})`, async () => {
  // Long enough to outlast the fresh browser's start, so that the expired attempt comes right
  // after the expiry: the local DynamoDB's TTL sweeper deletes an expired token's record within
  // seconds, and a deleted record reads "not found", not "expired" (a server matter).
  const ttl = 15;
  const a = await start(newProfile('returning-a'), { tts: FAST });
  let { page, log } = a;
  await setSettings(page, { voice: 'adam', exaggeration: 1.6, cfgWeight: 0.15, temperature: 2.4, seed: 987654321 });
  const text = 'Welcome back. Your words were kept, and so was the voice. Every setting, too. Here it all is.';
  const id = await generateTake(page, log, text);
  const want = await readEditor(page);
  assert.deepEqual(want, { text, voice: 'adam', exaggeration: '1.6', cfgWeight: '0.15', temperature: '2.4', seed: '987654321' });
  const original = await readChunks(page, id);
  assert.equal(original.length, 4);
  const progressFrom = log.seq;
  const { token } = await backUp(page, log, id);
  const upload = log.all('progress').filter((e) => e.seq >= progressFrom).map((e) => e.detail);
  assert.ok(upload.length > 0 && upload.at(-1).loaded === upload.at(-1).total, `upload progress reported: ${JSON.stringify(upload)}`);

  // A second take, backed up with a token that lives `ttl` seconds.
  await page.goto(demoUrl({ backup_ttl: ttl, tts: FAST }));
  await page.waitForSelector('html[data-ready="true"]');
  const shortId = await generateTake(page, log, 'This copy will not last.');
  const short = await backUp(page, log, shortId);
  await a.browser.kill();

  const b = await start(newProfile('returning-b'));
  ({ page, log } = b);
  // Past the short token's lifetime an attempt reports it expired.
  // Sent right after the expiry (the server refuses it from `expires_at` on): the emulator's TTL
  // sweeper deletes an expired record within seconds, and then it would read "not found".
  const expiresAt = Number(short.expiresAt) || Date.parse(short.expiresAt) / 1000;
  const expired = await recover(page, log, short.token, { at: expiresAt + 0.2 });
  assert.equal(expired.audio, 'expired', `${JSON.stringify(expired)}: ${await page.text(tid('server-message'))}`);
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'expired');
  assert.match(await page.text(tid('server-message')), /expired/);

  // The first token brings the whole session back.
  const got = await recover(page, log, token);
  assert.equal(got.audio, 'restored', JSON.stringify(got));
  assert.deepEqual(await readEditor(page), want, 'the editor shows the text, voice and parameters of the backup');
  assert.equal(got.text, text);
  assert.equal(got.voiceId, 'adam');
  const shown = await readChunks(page, got.id);
  assert.deepEqual(
    shown.map(({ index, sha256, bytes }) => ({ index, sha256, bytes })),
    original.map(({ index, sha256, bytes }) => ({ index, sha256, bytes })),
    'every part, in order, byte for byte',
  );
  for (const d of await decodeChunks(page, got.id)) assert.ok(d.seconds > 0, `part ${d.index} decodes: ${d.error ?? d.seconds}`);
  assert.equal(await page.attr(tid('recovery-progress'), 'value'), '1');
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'restored');
  await b.browser.kill();
});
