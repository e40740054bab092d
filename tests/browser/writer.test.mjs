// The writer who types in bursts and crashes a quarter of a second after the last keystroke: the
// whole text, the voice and every parameter come back. And the indicator tells the truth while
// they type: it never says `saved` while something typed is not committed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWSER, newProfile } from './lib/browser.mjs';
import { readEditor, restoreFromModal, setSettings, start, tid } from './lib/demo.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How long after the last keystroke the browser is killed. */
const KILL_AFTER_MS = 250;

const BURSTS = [
  'Chapter two. ',
  'The ferry left at six, ',
  'and nobody on the quay waved — ',
  'not even the harbour master, ',
  'who always did.',
];
const MORE = [' Later, the fog.', ' She wrote it down', ' before it went.'];

/**
 * The indicator's state and the editor's text at one instant, and what the store holds for the
 * session being edited, read right after (nothing is typed meanwhile).
 */
async function indicatorAndStore(page) {
  return page.evaluate(async () => {
    const state = document.querySelector('[data-testid="autosave-indicator"]').dataset.state;
    const text = document.querySelector('[data-testid="tts-text"]').value;
    const id = window.chatterboxDemo.currentId;
    const stored = (await window.chatterboxDemo.store.list()).find((s) => s.id === id)?.text ?? null;
    return { state, text, stored };
  });
}

/**
 * Types `bursts` with pauses between them, checking the indicator after every burst: `saved`
 * only when the store holds exactly what the editor shows, `pending` or `saving` otherwise.
 * Resolves with the time of the last keystroke.
 */
async function typeInBursts(page, bursts, checks) {
  let last = 0;
  for (const [n, burst] of bursts.entries()) {
    await page.type(tid('tts-text'), burst, { delay: 15, end: true, onKey: (_, at) => (last = at) });
    const seen = await indicatorAndStore(page);
    checks.push(seen);
    if (seen.state === 'saved') {
      assert.equal(seen.stored, seen.text, `burst ${n + 1}: the indicator says saved, so the store must hold what was typed`);
    } else {
      assert.ok(['pending', 'saving'].includes(seen.state), `burst ${n + 1}: indicator ${seen.state} while typing`);
    }
    if (n < bursts.length - 1) await sleep(120 + ((n * 337) % 700));
  }
  return last;
}

/** Kills the browser `KILL_AFTER_MS` after `lastKey` (a Date.now() time). */
async function killAfterLastKey(browser, lastKey) {
  const wait = lastKey + KILL_AFTER_MS - Date.now();
  assert.ok(wait > 0, `the kill was due ${-wait} ms ago already (the last check took too long)`);
  await sleep(wait);
  const at = Date.now();
  await browser.kill();
  return at - lastKey;
}

test(`writer: typing in bursts, killed ${KILL_AFTER_MS} ms after the last keystroke, gets the whole text, voice and parameters back (${BROWSER})`, async () => {
  const profile = newProfile('bursts');
  let { browser, log, page } = await start(profile);
  await setSettings(page, { voice: 'james', exaggeration: 0.85, cfgWeight: 0.7, temperature: 0.45, seed: 4242 });
  const checks = [];
  // The last burst is checked at once, so the kill cannot wait for the check: type it, then kill.
  let lastKey = await typeInBursts(page, BURSTS.slice(0, -1), checks);
  await sleep(300);
  await page.type(tid('tts-text'), BURSTS.at(-1), { delay: 15, end: true, onKey: (_, at) => (lastKey = at) });
  const want = {
    text: BURSTS.join(''),
    voice: 'james',
    exaggeration: '0.85',
    cfgWeight: '0.7',
    temperature: '0.45',
    seed: '4242',
  };
  assert.equal(await page.value(tid('tts-text')), want.text, 'the editor shows what was typed');
  const id = await page.evaluate(() => window.chatterboxDemo.currentId);
  const late = await killAfterLastKey(browser, lastKey);
  log.close();

  ({ browser, log, page } = await start(profile));
  assert.deepEqual((await log.waitFor('ready')).detail.crashed, [id]);
  await restoreFromModal(page, log, id);
  assert.deepEqual(await readEditor(page), want, `killed ${late} ms after the last keystroke`);

  // Write on in the restored session, and crash again the same way.
  lastKey = await typeInBursts(page, MORE.slice(0, -1), checks);
  await sleep(300);
  await page.type(tid('tts-text'), MORE.at(-1), { delay: 15, end: true, onKey: (_, at) => (lastKey = at) });
  const id2 = await page.evaluate(() => window.chatterboxDemo.currentId);
  await killAfterLastKey(browser, lastKey);
  log.close();

  ({ browser, log, page } = await start(profile));
  assert.ok((await log.waitFor('ready')).detail.crashed.includes(id2));
  await restoreFromModal(page, log, id2);
  assert.deepEqual(await readEditor(page), { ...want, text: want.text + MORE.join('') });
  console.log(`[${BROWSER}] indicator after each burst: ${checks.map((c) => c.state).join(', ')}`);
  await browser.kill();
});

test(`the indicator goes pending on a keystroke and saved only once the text is committed (${BROWSER})`, async () => {
  const profile = newProfile('indicator');
  const { browser, log, page } = await start(profile);
  // A fresh page, nothing typed: nothing is saved either, and the indicator does not say it is.
  const before = await page.evaluate(() => {
    const el = document.querySelector('[data-testid="autosave-indicator"]');
    return { state: el.dataset.state, text: el.textContent.trim() };
  });
  assert.deepEqual(before, { state: 'idle', text: 'Nothing to save yet' }, 'the indicator before anything was typed');
  // Every change of the indicator, with the editor's text at that moment and, for `saved`, what
  // the store holds for the session (read at once, before anything else is typed).
  await page.evaluate(() => {
    window.__indicator = [];
    const el = document.querySelector('[data-testid="autosave-indicator"]');
    const editor = document.querySelector('[data-testid="tts-text"]');
    new MutationObserver(() => {
      const change = { state: el.dataset.state, text: editor.value };
      window.__indicator.push(change);
      if (change.state !== 'saved') return;
      const id = window.chatterboxDemo.currentId;
      change.stored = window.chatterboxDemo.store.list().then((all) => {
        change.stored = all.find((s) => s.id === id)?.text ?? null;
      });
    }).observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });
  const text = 'One line, typed key by key.';
  await page.type(tid('tts-text'), text, { delay: 10 });
  await log.waitFor('committed', (d) => d.kind === 'session' && d.text === text);
  await page.waitForFunction(() => document.querySelector('[data-testid="autosave-indicator"]').dataset.state === 'saved');
  const changes = await page.evaluate(async () => {
    for (const c of window.__indicator) await c.stored;
    return window.__indicator;
  });
  assert.equal(changes[0]?.state, 'pending', `the first keystroke makes it pending: ${JSON.stringify(changes[0])}`);
  // The text only grows here, so a read that lands after a later commit holds more, never less.
  for (const c of changes.filter((c) => c.state === 'saved')) {
    assert.ok(c.stored?.startsWith(c.text), `saved shown for ${JSON.stringify(c.text)}, the store held ${JSON.stringify(c.stored)}`);
  }
  assert.equal(changes.at(-1).state, 'saved');
  console.log(`[${BROWSER}] indicator while typing ${text.length} keys: ${changes.map((c) => c.state).join(' ')}`);
  await browser.kill();
});
