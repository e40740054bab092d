// The render figure: what one keystroke in the text field renders, read from React's
// Profiler in the profiling build (`vite build --mode profiling`, served at /react-profiling/),
// in headless Chromium. Usage:
//   node scripts/renders.mjs http://127.0.0.1:3000 [keystrokes] [query, e.g. recovery=off]
// Prints, for a burst of typing, the commits of each measured part of the page: the editor's
// are the keystrokes' own (an app without recovery renders the same); the indicator's are the
// save status changing (pending → saving → saved), which is what recovery adds.
import { chromium } from 'playwright-core';

const base = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const keystrokes = Number(process.argv[3] ?? 40);
const query = process.argv[4] ? `?${process.argv[4]}` : '';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.__reactRenders = [];
  });
  await page.goto(`${base}/react-profiling/${query}`);
  await page.waitForSelector('html[data-ready="true"]');
  const text = page.locator('[data-testid="tts-text"]');
  await text.focus();
  await page.waitForTimeout(500);
  const perKey = [];
  const before = await page.evaluate(() => window.__reactRenders.length);
  for (let i = 0; i < keystrokes; i++) {
    const from = await page.evaluate(() => window.__reactRenders.length);
    await text.press(i % 6 === 5 ? 'Space' : 'KeyA');
    // The keystroke's own commit is synchronous (a discrete event); read it right away.
    perKey.push(await page.evaluate((from) => window.__reactRenders.slice(from).map((r) => r.id), from));
    await page.waitForTimeout(40);
  }
  await page.waitForTimeout(1500); // the last save commits
  const all = await page.evaluate((before) => window.__reactRenders.slice(before), before);
  const count = (list) => list.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map());
  const keyCommits = perKey.map((ids) => [...new Set(ids)].sort().join('+'));
  console.log(`${query || 'with recovery'}: ${keystrokes} keystrokes (40 ms apart), then 1.5 s idle`);
  console.log('commits right after each keystroke:', Object.fromEntries(count(keyCommits)));
  console.log('all commits of the burst, per part:', Object.fromEntries(count(all.map((r) => r.id))));
  console.log('indicator states seen:', await page.evaluate(() => document.querySelector('[data-testid="autosave-indicator"]').dataset.state));
} finally {
  await browser.close();
}
