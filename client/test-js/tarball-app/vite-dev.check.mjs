// The tarball app under `vite` dev, in real Chromium, as a new user first runs it: dependency
// pre-bundling on (the package is served from node_modules/.vite/deps/) and no configuration for
// the package in vite.config.ts. Typing in the editor must autosave: the indicator's data-state
// goes from idle to saved. Fails with the indicator's message otherwise (before the loader's fix,
// Vite 5 to 7 answered the wasm's URL with index.html: "expected magic word 00 61 73 6d").
// Vite 8 (rolldown) rewrites `new URL(..., import.meta.url)` inside pre-bundled dependencies,
// Vite 5 to 7 (esbuild) do not: so the check runs under both, the app's Vite and `vite7` (an npm
// alias of vite@7 in devDependencies), and fails under vite7 with the loader of before the fix.
// Usage: node vite-dev.check.mjs [vite|vite7]   (in the app, after npm install; CHROMIUM overrides
// the browser)
import { createServer as listen } from 'node:net';
import { chromium } from 'playwright-core';

const vite = process.argv[2] ?? 'vite';
if (vite !== 'vite' && vite !== 'vite7') throw new Error(`usage: node vite-dev.check.mjs [vite|vite7], not ${vite}`);
const { createServer, version } = await import(vite);

const TIMEOUT_MS = 30_000;

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
  const page = await browser.newPage();
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
  console.log(`vite ${version} dev: data-state ${state}; wasm ${wasm.join(', ') || 'none'}; pre-bundled ${prebundled.length} module(s)`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser?.close();
  await server.close();
}
if (failed) {
  console.error(`vite ${version} dev check failed: ${failed}`);
  process.exit(1);
}
