// The recovery banner in the first paint of this app's build (dist/: index.html as a new user
// writes it, with the banner's skeleton, and vite.config.ts's `recoveryHint` plugin putting the
// start-up hint at the top of <head>), in real Chromium. With the app's bundle held back, the page
// is what the browser paints before any of the app's code runs:
//   - a session saved since the last clean exit (the hint's localStorage index): <html> marked and
//     the skeleton shown, styled by react.css, "Looking for unsaved work…";
//   - nothing saved, or a clean exit since: the skeleton hidden.
// With the bundle: React's first render replaces the skeleton, and once the recovery check finds
// nothing (the index was written here by hand; IndexedDB holds no session) no banner is left.
// Usage: node first-paint.check.mjs   (after `vite build`; CHROMIUM overrides the browser)
import { chromium } from 'playwright-core';
import { serveDist } from './serve-dist.mjs';

const TIMEOUT_MS = 30_000;
const KEY = 'chatterbox-recovery:chatterbox-recovery:'; // the default database's hint keys
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`  FAIL ${message}`);
};

/** In the page: the hint's mark, the skeleton as painted, and where the hint's script is. */
function seen() {
  const skeleton = document.querySelector('.cbr-first-paint');
  const style = skeleton && getComputedStyle(skeleton);
  return {
    hint: document.documentElement.dataset.recoveryHint ?? null,
    skeleton: skeleton ? { shown: skeleton.checkVisibility(), text: skeleton.textContent.trim(), display: style.display, background: style.backgroundColor } : null,
    hintScriptFirst: document.head.firstElementChild?.matches('script:not([src]):not([type])') ?? false,
  };
}

/** In the page: the hint's index says one session was saved now; `cleanExit` after it, or none. */
function saved([key, cleanExit]) {
  const now = Date.now();
  localStorage.setItem(`${key}index`, JSON.stringify({ 'first-paint-check': now }));
  if (cleanExit) localStorage.setItem(`${key}clean-exit`, String(now + 1));
  else localStorage.removeItem(`${key}clean-exit`);
}

const server = await serveDist();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const held = /\/assets\/[^/]+\.js$/;
  await page.route(held, (route) => route.abort());

  await page.goto(`${server.origin}/`);
  let now = await page.evaluate(seen);
  console.log(`nothing saved: ${JSON.stringify(now)}`);
  if (!now.hintScriptFirst) fail('the start-up hint is not the first element of <head> as a classic inline script');
  if (!now.skeleton) fail('index.html has no .cbr-first-paint skeleton');
  else if (now.hint !== null || now.skeleton.shown) fail('with nothing saved, the banner skeleton shows');

  await page.evaluate(saved, [KEY, false]);
  await page.reload();
  now = await page.evaluate(seen);
  console.log(`saved, no clean exit since: ${JSON.stringify(now)}`);
  if (now.hint !== 'crashed') fail(`after a save with no clean exit, <html> is not marked (data-recovery-hint=${now.hint})`);
  if (!now.skeleton?.shown) fail('after a save with no clean exit, the banner skeleton is not shown');
  else {
    if (now.skeleton.text !== 'Looking for unsaved work…') fail(`the skeleton says "${now.skeleton.text}"`);
    if (now.skeleton.display !== 'flex' || now.skeleton.background === 'rgba(0, 0, 0, 0)') {
      fail(`the skeleton is not styled as react.css's banner (display ${now.skeleton.display}, background ${now.skeleton.background})`);
    }
  }

  await page.evaluate(saved, [KEY, true]);
  await page.reload();
  now = await page.evaluate(seen);
  console.log(`saved, then a clean exit: ${JSON.stringify(now)}`);
  if (now.hint !== null || now.skeleton?.shown) fail('after a clean exit, the banner skeleton shows');

  // The app itself: its first render takes the skeleton's place; the check then finds nothing.
  await page.unroute(held);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.evaluate(saved, [KEY, false]);
  await page.reload();
  await page.locator('.cbr-indicator').first().waitFor({ timeout: TIMEOUT_MS });
  const settled = await page
    .waitForFunction(() => !document.querySelector('.cbr-first-paint, [data-testid="recovery-banner"]'), null, { timeout: TIMEOUT_MS })
    .then(() => true)
    .catch(() => false);
  console.log(`the app's bundle run: ${settled ? 'skeleton replaced, no banner once the check found nothing' : 'a banner or the skeleton stayed'}`);
  if (!settled) fail('with the app running and nothing in IndexedDB, the skeleton or the banner stayed');
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.close();
}
if (failures.length) {
  console.error(`first paint check: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log('first paint check passed');
