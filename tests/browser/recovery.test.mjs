// What is not a crash, what dismissing means, and a full storage quota.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_URL, BROWSER, Browser, damageChromiumIndexedDb, newProfile } from './lib/browser.mjs';
import { EventLog, openDemo, readChunks, recordEvents, restoreFromModal, start, tid, ttsUrl } from './lib/demo.mjs';

const FAST = { tts: ttsUrl({ chunk_delay_ms: 0 }) };
/** Firefox's temporary storage limit in the storage-full test, in KB. */
const FIREFOX_QUOTA_KB = Number(process.env.FIREFOX_QUOTA_KB ?? 256);

async function typeAndSave(page, log, text) {
  await page.type(tid('tts-text'), text, { delay: 2 });
  return (await log.waitFor('committed', (d) => d.kind === 'session' && d.text === text)).detail.id;
}

async function generateTake(page, log, text) {
  await page.fill(tid('tts-text'), text);
  const after = log.seq;
  await page.click(tid('tts-generate'));
  return (await log.waitFor('generation', (d) => d.phase === 'stored', { after })).detail;
}

test('a clean close shows no banner on the next start', async () => {
  const profile = newProfile('clean');
  let { browser, log, page } = await start(profile, FAST);
  await typeAndSave(page, log, 'Closed properly. ');
  await generateTake(page, log, 'Closed properly, with audio.');
  await browser.close();

  let ready;
  ({ browser, page, ready } = await start(profile, FAST));
  assert.deepEqual(ready.crashed, []);
  assert.ok(!(await page.isVisible(tid('recovery-banner'))));
  await browser.kill();
});

test('a second live tab is not reported as a crash, and the first tab goes on working', async () => {
  const profile = newProfile('tabs');
  const { browser, log, page, ready } = await start(profile, FAST);
  const id = await typeAndSave(page, log, 'Open in the first tab.');

  const second = await browser.newPage();
  const opened = log.seq;
  await second.goto(page.url());
  await second.waitForSelector('html[data-ready="true"]');
  // The page's event can reach the test after the attribute does (Firefox relays it over BiDi).
  const secondReady = (await log.waitFor('ready', () => true, { after: opened })).detail;
  assert.notEqual(secondReady.tabId, ready.tabId, 'the second tab reported in');
  assert.deepEqual(secondReady.crashed, []);
  assert.ok(!(await second.isVisible(tid('recovery-banner'))));

  await page.bringToFront();
  await page.type(tid('tts-text'), ' Still here.', { delay: 2, end: true });
  await log.waitFor('committed', (d) => d.kind === 'session' && d.id === id && d.text === 'Open in the first tab. Still here.');
  await browser.kill();

  // Killed with both tabs open: now it is a crash, and the first tab's work is offered.
  const again = await start(profile, FAST);
  assert.ok(again.ready.crashed.includes(id));
  await again.browser.kill();
});

test('dismiss removes the session for good, server copy included', async () => {
  const profile = newProfile('dismiss');
  let { browser, log, page } = await start(profile, FAST);
  const { id } = await generateTake(page, log, 'Not needed any more. Throw it away.');
  await page.click(tid('server-backup'));
  await page.waitForSelector(`${tid('server-message')}[data-outcome]:not([data-outcome="working"])`);
  assert.equal(await page.attr(tid('server-message'), 'data-outcome'), 'backed-up', await page.text(tid('server-message')));
  const { token } = (await log.waitFor('backup', (d) => d.id === id)).detail;
  await browser.kill();

  ({ browser, log, page } = await start(profile, FAST));
  await page.click(tid('recovery-open'));
  const item = `${tid('recovery-item')}[data-session-id="${id}"]`;
  assert.equal(await page.attr(item, 'data-server-copy'), 'true');
  await page.click(`${item} ${tid('recovery-dismiss')}`);
  await log.waitFor('dismissed', (d) => d.id === id);
  assert.ok(!(await page.isVisible(tid('recovery-banner'))));
  assert.ok(!(await page.isVisible(tid('recovery-modal'))));
  await browser.kill();

  // Killed again right after: the dismissed session does not come back, locally or from the server.
  let ready;
  ({ browser, log, page, ready } = await start(profile, FAST));
  assert.deepEqual(ready.crashed, []);
  assert.equal(await page.evaluate(async (id) => (await window.chatterboxDemo.store.list()).some((s) => s.id === id), id), false);
  await page.fill(`${tid('server-recover')} input`, token);
  await page.click(`${tid('server-recover')} button`);
  assert.equal((await log.waitFor('recovered')).detail.audio, 'not-found');
  await browser.kill();
});

test('restoring one of two crashed sessions leaves the other offered, and the indicator says so until none is left', async () => {
  const profile = newProfile('two');
  let { browser, log, page } = await start(profile, FAST);
  const a = await typeAndSave(page, log, 'First draft.');
  await page.click(tid('tts-new'));
  const b = await typeAndSave(page, log, 'Second draft.');
  await browser.kill();

  let ready;
  ({ browser, log, page, ready } = await start(profile, FAST));
  assert.deepEqual(new Set(ready.crashed), new Set([a, b]));
  // Nothing typed on this page, and crashed work on offer: the indicator says that, not "saved".
  assert.deepEqual(await indicator(page), { state: 'waiting', waiting: 'true', text: 'Earlier work waiting to be restored' });
  await restoreFromModal(page, log, a);
  assert.equal(await page.value(tid('tts-text')), 'First draft.');
  assert.ok(await page.isVisible(tid('recovery-banner')), 'the other one is still offered');
  assert.equal(await page.count(tid('recovery-item')), 1);
  // The restored session is claimed (saved again by this tab); the other one still waits, and the
  // indicator still says so, saved or not.
  const settled = await settledIndicator(page);
  assert.ok(settled.state === 'waiting' || (settled.state === 'saved' && settled.waiting === 'true'), JSON.stringify(settled));
  assert.match(settled.text, /earlier work waiting to be restored/i);
  // The last one dismissed: the modal closes by itself (nothing left in it), and nothing waits.
  await page.click(`${tid('recovery-item')}[data-session-id="${b}"] ${tid('recovery-dismiss')}`);
  await log.waitFor('dismissed', (d) => d.id === b);
  await page.waitForFunction(() => !document.querySelector('[data-testid="recovery-modal"]').open);
  assert.ok(!(await page.isVisible(tid('recovery-banner'))));
  const after = await settledIndicator(page);
  assert.ok(['idle', 'saved'].includes(after.state) && after.waiting === null, JSON.stringify(after));
  assert.doesNotMatch(after.text, /waiting/i);
  console.log(`[${BROWSER}] indicator: one restored, one offered: ${settled.state} "${settled.text}"; none left: ${after.state} "${after.text}"`);
  await browser.kill();
});

/** The indicator's `data-state`, `data-waiting` and words. */
function indicator(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="autosave-indicator"]');
    return { state: el.dataset.state, waiting: el.dataset.waiting ?? null, text: el.textContent.trim() };
  });
}

/** The indicator once no write is pending or in flight (React's settles after 250 ms). */
async function settledIndicator(page) {
  await page.waitForFunction(() => {
    const { state } = document.querySelector('[data-testid="autosave-indicator"]').dataset;
    return state !== 'pending' && state !== 'saving';
  });
  await new Promise((r) => setTimeout(r, 400));
  await page.waitForFunction(() => {
    const { state } = document.querySelector('[data-testid="autosave-indicator"]').dataset;
    return state !== 'pending' && state !== 'saving';
  });
  return indicator(page);
}

test('storage full: TTS goes on, every part plays, and the indicator says quota', async () => {
  // The origin gets little storage, for real, so that the browser's own quota manager fails
  // IndexedDB writes with a QuotaExceededError: room for the first take, not for the second too.
  // Chromium: 200 KB of quota for the origin through the DevTools protocol, set before the page
  // first opens IndexedDB (which checks quota against a cached figure). Firefox: 256 KB of
  // temporary storage for the whole profile, a preference read at startup (a fresh profile holds
  // nothing else, and below 10 MB an origin's group may use all of it); its quota manager then
  // fails IndexedDB writes the same way. (Measured: 200–400 KB behave alike, 160 KB is too small
  // for the first take, 512 KB holds both.)
  const profile = newProfile('quota');
  const browser = await Browser.launch(profile, {
    firefoxPrefs: { 'dom.quotaManager.temporaryStorage.fixedLimit': FIREFOX_QUOTA_KB },
  });
  const log = new EventLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  if (browser.name === 'chromium') {
    const cdp = await browser.driver.contexts()[0].newCDPSession(page.raw);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: BASE_URL, quotaSize: 200 * 1024 });
  }
  await openDemo(page, { query: FAST });
  const first = await generateTake(page, log, 'An older take. It can make room.');

  const after = log.seq;
  const take = await generateTake(page, log, 'Storage is full now. But speech keeps coming. Part after part. Until the end.');
  assert.equal(take.parts, 4);
  const parts = await readChunks(page, take.id);
  assert.deepEqual(parts.map((c) => c.index), [0, 1, 2, 3], 'every part arrived and is shown');
  const quota = log.all('indicator', (d) => d.state === 'quota').filter((e) => e.seq >= after);
  assert.ok(quota.length > 0, 'the indicator showed the quota state');
  assert.equal(first.parts, 2);
  const evicted = log.all('status', (d) => d.status === 'quota' && (d.evicted ?? []).includes(first.id));
  assert.ok(evicted.length > 0, 'the older take\'s audio made room');
  await browser.kill();
});

// Chromium deletes an origin's IndexedDB when it finds its own files damaged after a crash (a
// checksum mismatch; tests/browser/idb-kill.mjs meets it about once in 40–60 kills) and reports
// it on the next open. Here the damage is made on purpose: bytes of the database's write-ahead
// log overwritten while the browser is down. Firefox reports no such loss, so this is Chromium's.
test('a browser that deleted its damaged storage: the page says the saved work is gone and where to look', { skip: BROWSER !== 'chromium' && 'Chromium reports a deleted database; Firefox does not' }, async () => {
  const profile = newProfile('damaged');
  let { browser, log, page } = await start(profile, FAST);
  await typeAndSave(page, log, 'Saved, then lost with the browser’s own files.');
  await browser.kill();

  damageChromiumIndexedDb(profile);

  let ready;
  ({ browser, log, page, ready } = await start(profile, FAST));
  assert.match(String(ready.dataLoss), /corrupt|checksum|damaged/i, `the store reports the browser's loss: ${ready.dataLoss}`);
  assert.deepEqual(ready.crashed, [], 'nothing is offered that is not there');
  assert.match(await page.text(tid('tts-status')), /deleted the work it had saved here.*recovered by token/s);
  // Saving works again at once.
  await typeAndSave(page, log, 'A new start.');
  await browser.kill();
});
