// The tarball app under `vite` dev, in real Chromium, as a new user first runs it: dependency
// pre-bundling on (the package is served from node_modules/.vite/deps/) and no configuration for
// the package in vite.config.ts. Typing in the editor must autosave: the indicator's data-state
// goes from idle to saved. Fails with the indicator's message otherwise (before the loader's fix,
// Vite 5 to 7 answered the wasm's URL with index.html: "expected magic word 00 61 73 6d").
// Vite 8 (rolldown) rewrites `new URL(..., import.meta.url)` inside pre-bundled dependencies,
// Vite 5 to 7 (esbuild) do not: so the check runs under both, the app's Vite and `vite7` (an npm
// alias of vite@7 in devDependencies), and fails under vite7 with the loader of before the fix.
// Before the edit, audio through the store with the real wasm: "Generate" on the draft the app
// starts with (never edited, so autosave never saw it; the speech endpoint is vite.config.ts's
// stub) stores the draft's text, voice and parameters with its two parts (read from IndexedDB); then
// the renderer crashes, and on the next load Restore in the modal brings the draft and its parts
// back into the app's state. After the edit, a new take in the same session
// (`startTake({ clear: true })`) leaves only its own part.
// Usage: node vite-dev.check.mjs [vite|vite7]   (in the app, after npm install; CHROMIUM overrides
// the browser)
import { createServer as listen } from 'node:net';
import { chromium } from 'playwright-core';

const vite = process.argv[2] ?? 'vite';
if (vite !== 'vite' && vite !== 'vite7') throw new Error(`usage: node vite-dev.check.mjs [vite|vite7], not ${vite}`);
const { createServer, version } = await import(vite);

const TIMEOUT_MS = 30_000;
/** The app's own count of the take's parts (`<p>N audio parts</p>`), not the banner's or the
 * modal's summary of a crashed session, which can say the same words while they are shown. */
const appParts = (page, n) => page.locator('p').filter({ hasText: new RegExp(`^${n} audio parts$`) });
/** A check that failed (not a crash of the script). */
class Check extends Error {}

/** A loopback port nobody listens on now (Vite would otherwise take 5173 or the next one). */
async function freePort() {
  const probe = listen();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const server = await createServer({
  configFile: new URL('./vite.config.ts', import.meta.url).pathname,
  root: new URL('.', import.meta.url).pathname,
  // A fresh pre-bundle (in the default cache dir), as on a new user's first start.
  optimizeDeps: { force: true },
  server: { host: '127.0.0.1', port: await freePort(), strictPort: true },
  logLevel: 'warn',
});
let browser;
let failed = null;
try {
  await server.listen();
  const origin = server.resolvedUrls.local[0];
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  // One context for both pages: the second load finds what the crashed one stored.
  const context = await browser.newContext();
  let page = await context.newPage();
  const prebundled = [];
  const wasm = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.includes('/.vite/deps/') && path.includes('chatterbox')) prebundled.push(path);
    if (path.endsWith('.wasm')) wasm.push(`${r.status()} ${r.headers()['content-type']} ${path}`);
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(origin);
  await page.locator('.cbr-indicator').first().waitFor({ timeout: TIMEOUT_MS });

  const draft = await page.locator('textarea').inputValue();
  await page.getByRole('button', { name: 'Generate' }).click();
  await appParts(page, 2).waitFor({ timeout: TIMEOUT_MS });
  const want = { text: draft, voiceId: 'default', params: { exaggeration: 0.5, seed: 0 }, completed: true };
  const take = await storedTake(page, want, 2);
  const id = take.id;
  await page.goto('chrome://crash').catch(() => undefined); // no pagehide: a crash
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(origin);
  await page.getByTestId('recovery-open').click({ timeout: TIMEOUT_MS });
  await page.getByTestId('recovery-restore').click({ timeout: TIMEOUT_MS });
  await appParts(page, 2).waitFor({ timeout: TIMEOUT_MS });
  const restoredText = await page.locator('textarea').inputValue();
  if (restoredText !== draft) throw new Check(`restored text ${JSON.stringify(restoredText)}, want the draft`);
  console.log(`vite ${version} dev: Generate on the unedited draft stored its text, voice and parameters with its parts; Restore after a crash brought them back`);

  const indicator = page.locator('.cbr-indicator').first();
  await indicator.waitFor({ timeout: TIMEOUT_MS });
  const stateNow = () => indicator.getAttribute('data-state');
  await page.locator('textarea').fill(`typed under vite dev at ${Date.now()}`);
  const deadline = Date.now() + TIMEOUT_MS;
  let state = await stateNow();
  while (state !== 'saved' && state !== 'error' && Date.now() < deadline) {
    await page.waitForTimeout(100);
    state = await stateNow();
  }
  if (!prebundled.length) failed = 'the package was not served pre-bundled (no /.vite/deps/ request): the check does not test what it claims';
  else if (state !== 'saved') failed = `indicator data-state=${state}: ${await indicator.textContent()}`;
  else {
    // A new take of the edited text (one sentence) in the same session: startTake({ clear: true })
    // drops the two parts of before, so one part is left, with the new text.
    const edited = await page.locator('textarea').inputValue();
    await page.getByRole('button', { name: 'Generate' }).click();
    await storedTake(page, { text: edited, voiceId: 'default', params: { exaggeration: 0.5, seed: 0 }, completed: true, id }, 1);
    console.log(`vite ${version} dev: Generate again in the same session after an edit left only the new take's part`);
  }
  console.log(`vite ${version} dev: data-state ${state}; wasm ${wasm.join(', ') || 'none'}; pre-bundled ${prebundled.length} module(s)`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
} catch (e) {
  if (!(e instanceof Check)) throw e;
  failed = e.message;
} finally {
  await browser?.close();
  await server.close();
}
if (failed) {
  console.error(`vite ${version} dev check failed: ${failed}`);
  process.exit(1);
}

/**
 * Waits until IndexedDB holds one completed session as `want` (its `id` too, when given) with
 * `parts` parts of 4,844 bytes (the stub's WAV) and no other part; resolves that session.
 */
async function storedTake(page, want, parts) {
  const matches = ({ sessions, chunks }) => {
    const take = sessions.find((s) => s.completed && s.text === want.text && (!want.id || s.id === want.id));
    const mine = chunks.filter((c) => c.sessionId === take?.id);
    const same = take && JSON.stringify({ ...take, id: undefined }) === JSON.stringify({ ...want, id: undefined });
    return same && mine.length === parts && mine.every((c) => c.bytes === 4844) ? take : null;
  };
  let stored = await page.evaluate(readStore);
  for (const until = Date.now() + TIMEOUT_MS; !matches(stored) && Date.now() < until; ) {
    await page.waitForTimeout(100);
    stored = await page.evaluate(readStore);
  }
  const take = matches(stored);
  if (!take) throw new Check(`IndexedDB holds ${JSON.stringify(stored)}; want the session ${JSON.stringify(want)} with ${parts} part(s) of 4844 bytes`);
  return take;
}

/** In the page: the recovery store's sessions and parts as IndexedDB holds them. */
function readStore() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('chatterbox-recovery');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(['sessions', 'chunks'], 'readonly');
      const sessions = tx.objectStore('sessions').getAll();
      const chunks = tx.objectStore('chunks').getAll();
      tx.oncomplete = () => {
        db.close();
        resolve({
          sessions: sessions.result.map(({ id, text, voiceId, params, completed }) => ({ id, text, voiceId, params, completed })),
          chunks: chunks.result.map(({ sessionId, index, bytes }) => ({ sessionId, index, bytes: bytes.byteLength })),
        });
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}
