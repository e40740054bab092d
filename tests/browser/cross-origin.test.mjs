// An app deployed on another origin than the recovery API: the page (origin B, a static server of
// its own with its own copy of the client) calls the API and the bucket on the gateway's origin
// (A). Allowed in ALLOWED_ORIGINS, it backs up and recovers like the demo; not allowed, the error
// it gets names CORS and the setting to change, not just "Failed to fetch".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveApp } from './lib/app-origin.mjs';
import { BASE_URL, BROWSER, Browser, newProfile } from './lib/browser.mjs';

/**
 * The app origin's port, one per browser (tests/browser/run.sh runs both suites at once):
 * scripts/test-suite.sh puts http://127.0.0.1:8766 and :8767 in the gateway's ALLOWED_ORIGINS.
 */
const ALLOWED_APP_PORT = Number(process.env.CROSS_ORIGIN_APP_PORT ?? { chromium: 8766, firefox: 8767 }[BROWSER]);
const API_ORIGIN = new URL(BASE_URL).origin;

/** A browser on the app at `origin`, with every console message and page error it logs. */
async function openApp(origin, label) {
  const browser = await Browser.launch(newProfile(label));
  const page = await browser.newPage();
  const console = [];
  page.raw.on('console', (m) => console.push(m.text()));
  page.raw.on('pageerror', (e) => console.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForSelector('html[data-ready="true"]');
  return { browser, page, console };
}

test('an app on an origin ALLOWED_ORIGINS names backs a session up and recovers it by token, with no unsafe header refused', async () => {
  const app = await serveApp(ALLOWED_APP_PORT);
  const { browser, page, console } = await openApp(app.origin, 'cross-origin');
  try {
    const out = await page.evaluate(async (api) => {
      const { openRecoveryStore } = window.recoveryClient;
      const here = await openRecoveryStore({ dbName: 'cross-origin-backup', apiBaseUrl: api });
      const id = `cross-origin-${Date.now()}`;
      await here.save({ id, text: 'Backed up from another origin.', voiceId: 'default', params: { speed: 1.25 } });
      const bytes = new Uint8Array(4096).map((_, i) => (i * 7) % 251);
      await here.appendChunk(id, 0, bytes, 'audio/wav');
      const { token } = await here.backup(id);
      // Another store (another database): what a fresh browser would have.
      const fresh = await openRecoveryStore({ dbName: 'cross-origin-recover', apiBaseUrl: api });
      const { audio, session } = await fresh.recover(null, { token });
      const back = new Uint8Array(session.chunks[0].bytes);
      return {
        audio,
        text: session.text,
        params: session.params,
        same: back.length === bytes.length && back.every((b, i) => b === bytes[i]),
      };
    }, API_ORIGIN);
    assert.deepEqual(out, { audio: 'restored', text: 'Backed up from another origin.', params: { speed: 1.25 }, same: true });
    const refused = console.filter((m) => /unsafe header/i.test(m));
    assert.deepEqual(refused, [], 'the browser refused no header the client tried to set');
  } finally {
    await browser.kill();
    await app.close();
  }
});

test('an app on an origin ALLOWED_ORIGINS does not name is told the API may not allow it by CORS, and where to add it', async () => {
  const app = await serveApp(0);
  const { browser, page } = await openApp(app.origin, 'cross-origin-refused');
  try {
    const message = await page.evaluate(async (api) => {
      const { openRecoveryStore } = window.recoveryClient;
      const here = await openRecoveryStore({ dbName: 'cross-origin-refused', apiBaseUrl: api });
      await here.save({ id: 'refused', text: 'Never leaves this origin.' });
      await here.appendChunk('refused', 0, new Uint8Array(64), 'audio/wav');
      return here.backup('refused').then(() => 'backed up', (e) => e.message);
    }, API_ORIGIN);
    assert.match(message, /CORS/);
    assert.ok(message.includes(`the API at ${API_ORIGIN} did not answer`), message);
    assert.ok(message.includes(`this page's origin (${app.origin})`), message);
    assert.ok(message.includes('ALLOWED_ORIGINS'), message);
  } finally {
    await browser.kill();
    await app.close();
  }
});
