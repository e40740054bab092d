// The start-up hint (client/js/hint.js, the pages' classic script) in a real browser: the
// IndexedDB read it falls back to when the localStorage index lost the last save (as Chromium
// loses it to a kill within a second or so of the save), that this read leaves Chromium's report
// of a deleted, damaged database to the store, and that it never leaves a database behind where
// there was none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_URL, BROWSER, Browser, damageChromiumIndexedDb, newProfile } from './lib/browser.mjs';
import { EventLog, openDemo, recordEvents, start, tid } from './lib/demo.mjs';

const INDEX = 'chatterbox-recovery:chatterbox-recovery:index';

/** A session typed and auto-saved, then the browser killed; resolves with the session's id. */
async function saveThenKill(profile, text) {
  const { browser, log, page } = await start(profile);
  await page.fill(tid('tts-text'), text);
  const id = (await log.waitFor('committed', (d) => d.kind === 'session' && d.text === text)).detail.id;
  await browser.kill();
  return id;
}

/**
 * The browser launched again on `profile` with the localStorage index gone before any script of
 * the page runs (as a kill right after a save leaves it in Chromium), the page open and checked.
 * `__hint.beforeReady`: whether the hint's mark came before the page's own check was done.
 */
async function relaunchWithoutIndex(profile) {
  const browser = await Browser.launch(profile);
  await browser.addInitScript((key) => {
    localStorage.removeItem(key);
    const seen = (window.__hint = {});
    new MutationObserver(() => {
      const data = document.documentElement?.dataset;
      if (data?.recoveryHint && seen.beforeReady === undefined) seen.beforeReady = data.ready !== 'true';
    }).observe(document, { subtree: true, attributes: true, childList: true });
  }, INDEX);
  const log = new EventLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  await openDemo(page);
  const ready = (await log.waitFor('ready')).detail;
  return { browser, page, ready };
}

test('after a kill the localStorage index did not survive, the hint marks <html> from IndexedDB before the check is done', async () => {
  const profile = newProfile('hint-idb');
  const id = await saveThenKill(profile, 'Saved, then the browser was killed before the hint reached the disk.');
  const { browser, page, ready } = await relaunchWithoutIndex(profile);
  assert.deepEqual(ready.crashed, [id]);
  const got = await page.evaluate((key) => ({
    hint: document.documentElement.dataset.recoveryHint,
    at: document.documentElement.dataset.recoveryHintAt,
    beforeReady: window.__hint.beforeReady,
    index: localStorage.getItem(key),
  }), INDEX);
  assert.equal(got.hint, 'crashed', 'the hint marked <html> though the index was gone');
  assert.ok(Number.isFinite(Number(got.at)), `data-recovery-hint-at is a time: ${got.at}`);
  assert.equal(got.beforeReady, true, "the mark came before the page's check was done");
  // The store rebuilt the index at open: the next load's hint has it again.
  assert.deepEqual(Object.keys(JSON.parse(got.index ?? '{}')), [id]);
  assert.ok(await page.isVisible(tid('recovery-banner')), 'the check offers the session');
  await browser.kill();
});

// Chromium reports a database it deleted as damaged to the first open after start-up only; the
// hint's read must not be that open (recovery.test.mjs damages the files the same way).
test("the hint's read leaves Chromium's report of a deleted, damaged database to the store", { skip: BROWSER !== 'chromium' && 'Chromium reports a deleted database; Firefox does not' }, async () => {
  const profile = newProfile('hint-data-loss');
  await saveThenKill(profile, 'Saved, then lost with the browser’s own files.');
  damageChromiumIndexedDb(profile);
  const { browser, ready } = await relaunchWithoutIndex(profile);
  assert.match(String(ready.dataLoss), /corrupt|checksum|damaged/i, `the store reports the browser's loss: ${ready.dataLoss}`);
  assert.deepEqual(ready.crashed, []);
  await browser.kill();
});

test('where there is no database, the hint leaves none behind', async () => {
  const browser = await Browser.launch(newProfile('hint-no-db'));
  const page = await browser.newPage();
  // A page of the origin that opens no store (the script itself, shown as text).
  await page.goto(`${BASE_URL}/client/js/hint-script.js`);
  const names = await page.evaluate(async () => {
    await new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement('script'), { src: '/client/js/hint-script.js', onload: resolve, onerror: reject });
      document.head.append(script);
    });
    // A database opened the plain way (no version, no abort) is created: the list below shows
    // it, so it would show the hint's too.
    await new Promise((resolve, reject) => {
      const open = indexedDB.open('control');
      open.onsuccess = () => resolve(open.result.close());
      open.onerror = () => reject(open.error);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    return (await indexedDB.databases()).map((db) => db.name).sort();
  });
  assert.deepEqual(names, ['control']);
  await browser.kill();
});
