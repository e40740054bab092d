// A token made by someone hostile: its session document claims far more parts, or far bigger
// parts, than the audio beside it holds. The page refuses it cleanly (a message, nothing stored,
// the page goes on working) and recovers an honest token right after. And a crafted link: its
// `?tts=` cannot send what the user types to another origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWSER, newProfile } from './lib/browser.mjs';
import { backupByHand, speech } from './lib/api.mjs';
import { demoUrl, readChunks, readEditor, start, tid } from './lib/demo.mjs';

const document = (id, parts, extra = {}) => ({
  version: 1,
  id,
  text: 'Looks harmless.',
  voiceId: 'emily',
  params: { exaggeration: 0.5, cfgWeight: 0.5, temperature: 0.8, seed: 1 },
  createdAt: Date.now(),
  updatedAt: Date.now(),
  parts,
  ...extra,
});

/** Enters `token` in "Recover by token"; resolves with the demo:recovered event's detail. */
async function recover(page, log, token) {
  const after = log.seq;
  await page.fill(`${tid('server-recover')} input`, token);
  await page.click(`${tid('server-recover')} button`);
  return (await log.waitFor('recovered', () => true, { after })).detail;
}

test(`a hostile token whose session document claims huge part counts or sizes is refused cleanly, no crash (${BROWSER})`, async () => {
  const suffix = Date.now().toString(36);
  const small = Buffer.alloc(4096, 7);
  const hostile = {
    // More parts than any take has (the client reads at most 10,000), each of one byte: the
    // document stays under the server's 1 MiB cap, the audio object is that many bytes.
    'twenty thousand parts': {
      audio: Buffer.alloc(20_000, 1),
      doc: (id) => document(id, Array.from({ length: 20_000 }, (_, index) => ({ index, mime: 'audio/wav', size: 1 }))),
    },
    // One part that claims 8 PiB of a 4 KB object.
    'a part bigger than the audio': {
      audio: small,
      doc: (id) => document(id, [{ index: 0, mime: 'audio/wav', size: Number.MAX_SAFE_INTEGER }]),
    },
    // Sizes whose sum does not fit in 64 bits.
    'sizes that overflow when summed': {
      audio: small,
      doc: (id) => `{"version":1,"id":"${id}","text":"x","voiceId":"emily","params":{},"createdAt":1,"updatedAt":1,` +
        '"parts":[{"index":0,"mime":"audio/wav","size":18446744073709551615},' +
        '{"index":1,"mime":"audio/wav","size":18446744073709551615}]}',
    },
    // Sizes that add up to the audio's length, but with a negative one.
    'a negative size': {
      audio: small,
      doc: (id) => document(id, [
        { index: 0, mime: 'audio/wav', size: 8192 },
        { index: 1, mime: 'audio/wav', size: -4096 },
      ]),
    },
  };
  const tokens = {};
  for (const [name, { audio, doc }] of Object.entries(hostile)) {
    const id = `hostile-${name.replaceAll(' ', '-')}-${suffix}`;
    tokens[name] = { id, token: await backupByHand({ sessionId: id, audio, doc: doc(id) }) };
  }
  // And an honest backup made the same way: two parts of real speech.
  const parts = [await speech('An honest first part.'), await speech('And an honest second one.')];
  const honestId = `honest-${suffix}`;
  const honest = await backupByHand({
    sessionId: honestId,
    audio: Buffer.concat(parts),
    doc: document(honestId, parts.map((p, index) => ({ index, mime: 'audio/wav', size: p.byteLength })), {
      text: 'An honest first part. And an honest second one.',
      voiceId: 'olivia',
      params: { exaggeration: 1.1, cfgWeight: 0.35, temperature: 0.9, seed: 77 },
    }),
  });

  const { browser, log, page } = await start(newProfile('hostile'));
  for (const [name, { id, token }] of Object.entries(tokens)) {
    const got = await recover(page, log, token);
    assert.notEqual(got.audio, 'restored', `${name}: refused`);
    assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'error', `${name}: ${await page.text(tid('server-message'))}`);
    assert.ok(await page.evaluate(async (id) => !(await window.chatterboxDemo.store.list()).some((s) => s.id === id), id),
      `${name}: nothing of it was stored`);
    assert.equal(await page.count(`[data-testid="audio-chunk"][data-session-id="${id}"]`), 0, `${name}: no part shown`);
  }

  // The same page, still working: the honest token comes back whole.
  const got = await recover(page, log, honest);
  assert.equal(got.audio, 'restored', JSON.stringify(got));
  assert.deepEqual(await readEditor(page), {
    text: 'An honest first part. And an honest second one.',
    voice: 'olivia',
    exaggeration: '1.1',
    cfgWeight: '0.35',
    temperature: '0.9',
    seed: '77',
  });
  const shown = await readChunks(page, got.id);
  assert.deepEqual(shown.map((c) => c.bytes), parts.map((p) => p.byteLength));
  await browser.kill();
});

test(`a crafted link cannot point the speech endpoint at another origin, ?tts_any=1 or not; a server the user typed is kept (${BROWSER})`, async () => {
  const own = new URL('/v1/audio/speech', demoUrl()).href;
  const crafted = { tts: 'https://collector.example/v1/audio/speech', tts_any: '1' };
  const profile = newProfile('crafted-link');
  let { browser, page } = await start(profile, crafted);
  assert.equal(await page.value(tid('tts-endpoint')), own, "the link's endpoint was not taken");
  assert.match(await page.text(tid('tts-status')), /Ignored \?tts=https:\/\/collector\.example.*type its URL in the TTS endpoint field/);
  // The user types another server in the field: that is the user's choice, kept for the next visit,
  // and the same crafted link does not replace it.
  const typed = 'http://127.0.0.2:9/v1/audio/speech';
  await page.click('details.endpoint summary');
  await page.fill(tid('tts-endpoint'), typed);
  await browser.close();
  ({ browser, page } = await start(profile, crafted));
  assert.equal(await page.value(tid('tts-endpoint')), typed);
  await browser.kill();
});
