// The start-up figure: after a crash, how long from navigation start until the
// recovery banner is on screen, warm cache. One tab types and commits, its renderer is crashed
// (chrome://crash: no pagehide, no clean exit), then the page is opened N times in a new tab.
// "On screen": the banner saying what was found is in the DOM, then the next animation frame.
// Usage: node scripts/banner-time.mjs http://127.0.0.1:3000 [runs] [path, default /react/]
import { chromium } from 'playwright-core';

const base = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const runs = Number(process.argv[3] ?? 20);
const path = process.argv[4] ?? '/react/';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const seen = () => {
      const banner = document.querySelector('[data-testid="recovery-banner"]');
      return banner && !banner.hidden && banner.textContent.includes('Unsaved work was found');
    };
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      requestAnimationFrame(() => (window.__bannerAt = performance.now()));
    });
    observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  const writer = await context.newPage();
  await writer.goto(`${base}${path}`);
  await writer.waitForSelector('html[data-ready="true"]');
  await writer.locator('[data-testid="tts-text"]').pressSequentially('Crashed before it was closed.', { delay: 10 });
  await writer.waitForFunction(() => document.querySelector('[data-testid="autosave-indicator"]')?.dataset.state === 'saved');
  await writer.waitForTimeout(300);
  await writer.goto('chrome://crash').catch(() => {});
  const page = await context.newPage();
  const times = [];
  const detects = [];
  for (let i = 0; i <= runs; i++) {
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => window.__bannerAt !== undefined, null, { timeout: 10_000 });
    const at = await page.evaluate(() => {
      const detect = performance.getEntriesByName('recovery:detect').at(-1);
      return { banner: window.__bannerAt, detectEnd: detect ? detect.startTime + detect.duration : NaN };
    });
    if (i > 0) times.push(at.banner); // the first load warms the cache
    if (i > 0) detects.push(at.detectEnd);
  }
  const pct = (list, p) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(0);
  };
  console.log(`${path}: banner on screen after navigation start, warm cache, ${runs} loads: ` +
    `p50 ${pct(times, 50)} ms, p95 ${pct(times, 95)} ms; the client's recovery:detect ended at ` +
    `p50 ${pct(detects, 50)} ms, p95 ${pct(detects, 95)} ms`);
} finally {
  await browser.close();
}
