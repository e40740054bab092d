// The package's components under a host's CSS, in real Chromium: host-css.html (Tailwind v4 with
// its preflight, a dark theme) from this app's Vite build (dist/). For each theme it checks that
// every text in the banner, the modal and the indicators has a contrast ratio of at least 4.5:1
// (WCAG relative luminance, from computed styles, over the colours actually behind the text),
// that the modal is centred, that the buttons are painted (opaque, set off from what is behind
// them), and that the modal closes, and the page behind is usable again, once the last session is
// restored or dismissed. Writes screenshots of the dark page into the directory given (if any).
// Usage: node host-css.check.mjs [screenshot dir]   (after `vite build`; CHROMIUM overrides the browser)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDist } from './serve-dist.mjs';

const MIN_TEXT = 4.5; // WCAG AA, normal text (applied to all text, large included)
const MIN_EDGE = 1.3; // a button's fill or border against what is behind it
const shots = process.argv[2];
const server = await serveDist();
const { origin } = server;

/** In the page: what the checks need, measured from computed styles. */
function measure() {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  /** Any CSS colour (oklch, light-dark() resolved, …) as sRGB [r, g, b, a], 0–1. */
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r / 255, g / 255, b / 255, a / 255];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const lum = ([r, g, b]) => {
    const f = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (c) => `#${c.slice(0, 3).map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('')}`;
  /** The colour behind `el`'s content: its background and its ancestors', composited. */
  const backdrop = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
      if (node.matches('dialog:modal')) break; // in the top layer: nothing of the page is behind it
    }
    const canvasColour = getComputedStyle(document.documentElement).colorScheme.includes('dark') ? [0.07, 0.07, 0.07, 1] : [1, 1, 1, 1];
    return layers.reverse().reduce((under, top) => over(top, under), layers.at(-1)?.[3] >= 1 ? layers.at(-1) : canvasColour);
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const roots = [...document.querySelectorAll('.cbr-indicator, .cbr-banner, dialog.cbr-modal[open]')];
  const texts = [];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join('').trim();
      if (!own || !visible(el)) continue;
      const s = getComputedStyle(el);
      const fg = rgba(s.color);
      const bg = backdrop(el);
      texts.push({
        root: root.dataset.testid + (root.dataset.state ? `[${root.dataset.state}]` : ''),
        text: own.slice(0, 40),
        color: hex(over(fg, bg)),
        background: hex(bg),
        ratio: ratio(over(fg, bg), bg),
      });
    }
  }
  const buttons = [...document.querySelectorAll('.cbr-button')].filter(visible).map((el) => {
    const s = getComputedStyle(el);
    const behind = backdrop(el.parentElement);
    const fill = rgba(s.backgroundColor);
    const border = rgba(s.borderTopColor);
    const borderWidth = parseFloat(s.borderTopWidth);
    return {
      text: el.textContent,
      disabled: el.disabled,
      fillAlpha: fill[3],
      fill: hex(over(fill, behind)),
      behind: hex(behind),
      fillEdge: ratio(over(fill, behind), behind),
      borderEdge: borderWidth >= 1 ? ratio(over(border, behind), behind) : 1,
      textRatio: ratio(over(rgba(s.color), over(fill, behind)), over(fill, behind)),
    };
  });
  const dialog = document.querySelector('dialog.cbr-modal');
  let modal = null;
  if (dialog?.open) {
    const r = dialog.getBoundingClientRect();
    const s = getComputedStyle(dialog);
    modal = {
      left: r.left, right: innerWidth - r.right, top: r.top, bottom: innerHeight - r.bottom, width: r.width,
      margin: s.marginLeft, padding: s.paddingLeft,
      // The host's button behind the backdrop must not be reachable while the modal is open.
      hostReachable: (() => {
        const b = document.querySelector('[data-testid="host-action"]').getBoundingClientRect();
        return document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2)?.dataset.testid === 'host-action';
      })(),
    };
  }
  return { texts, buttons, modal };
}

const THEMES = [
  // Tailwind's `dark:` variant and the user's preference (the common Tailwind dark theme).
  { name: 'dark', colorScheme: 'dark', query: 'theme=media', shots: true },
  // The page declares `color-scheme: dark` and paints itself dark; the user prefers light.
  { name: 'dark-scheme', colorScheme: 'light', query: 'theme=scheme' },
  // The same page, light.
  { name: 'light', colorScheme: 'light', query: 'theme=media' },
];

const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`  FAIL ${message}`);
};
const fmt = (n) => n.toFixed(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  if (shots) mkdirSync(shots, { recursive: true });
  for (const theme of THEMES) {
    const context = await browser.newContext({ colorScheme: theme.colorScheme, reducedMotion: 'reduce', viewport: { width: 1000, height: 720 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/host-css.html?${theme.query}`);
    await page.waitForSelector('[data-testid="recovery-banner"]');
    // Tailwind's preflight is in the page, and the theme is the one meant.
    const host = await page.evaluate(() => {
      const ctx = Object.assign(document.createElement('canvas'), { width: 1, height: 1 }).getContext('2d', { willReadFrequently: true });
      ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
      return {
        // Preflight: `* { margin: 0 }` (the browser gives <body> 8 px).
        preflight: getComputedStyle(document.body).marginTop === '0px',
        body: `rgb(${r}, ${g}, ${b})`,
        dark: (r + g + b) / 3 < 60,
        scheme: getComputedStyle(document.documentElement).colorScheme,
      };
    });
    console.log(`== ${theme.name}: prefers ${theme.colorScheme}, page ${theme.query}, body ${host.body}, color-scheme ${host.scheme}`);
    if (!host.preflight) fail(`${theme.name}: Tailwind's preflight is not applied (<body> keeps the browser's margin)`);
    if (host.dark !== theme.name.startsWith('dark')) fail(`${theme.name}: the page's background is ${host.body}`);

    if (theme.shots && shots) await page.screenshot({ path: join(shots, 'react-host-css-dark.png') });
    await page.click('[data-testid="recovery-open"]');
    await page.waitForFunction(() => document.querySelector('dialog.cbr-modal')?.open);
    if (theme.shots && shots) await page.screenshot({ path: join(shots, 'react-host-css-dark-modal.png') });
    const seen = await page.evaluate(measure);

    const worst = {};
    for (const t of seen.texts) {
      const key = t.root.replace(/\[.*/, '');
      if (!worst[key] || t.ratio < worst[key].ratio) worst[key] = t;
      if (t.ratio < MIN_TEXT) fail(`${theme.name}: ${t.root} "${t.text}" ${t.color} on ${t.background}: ${fmt(t.ratio)}:1 < ${MIN_TEXT}:1`);
    }
    for (const [root, t] of Object.entries(worst)) {
      console.log(`  lowest text contrast in ${root}: ${fmt(t.ratio)}:1 ("${t.text}", ${t.color} on ${t.background})`);
    }
    if (!seen.texts.some((t) => t.root.startsWith('recovery-modal'))) fail(`${theme.name}: no text measured in the modal`);
    if (seen.buttons.length < 5) fail(`${theme.name}: expected the banner's and four item buttons, saw ${seen.buttons.length}`);
    for (const b of seen.buttons) {
      const edge = Math.max(b.fillEdge, b.borderEdge);
      console.log(`  button "${b.text}": ${b.fill} on ${b.behind}, edge ${fmt(edge)}:1 (fill ${fmt(b.fillEdge)}, border ${fmt(b.borderEdge)}), text ${fmt(b.textRatio)}:1`);
      if (b.disabled) fail(`${theme.name}: button "${b.text}" is disabled`);
      if (b.fillAlpha < 1) fail(`${theme.name}: button "${b.text}" has a transparent background`);
      if (edge < MIN_EDGE) fail(`${theme.name}: button "${b.text}" (${b.fill}) does not stand out from ${b.behind}: ${fmt(edge)}:1`);
      if (b.textRatio < MIN_TEXT) fail(`${theme.name}: button "${b.text}" text contrast ${fmt(b.textRatio)}:1`);
    }
    const m = seen.modal;
    console.log(`  modal: ${Math.round(m.width)} px wide, left ${fmt(m.left)} / right ${fmt(m.right)}, top ${fmt(m.top)} / bottom ${fmt(m.bottom)}`);
    if (Math.abs(m.left - m.right) > 2 || Math.abs(m.top - m.bottom) > 2 || m.left < 8 || m.top < 8) {
      fail(`${theme.name}: the modal is not centred (left ${m.left}, right ${m.right}, top ${m.top}, bottom ${m.bottom}; margin ${m.margin})`);
    }
    if (m.hostReachable) fail(`${theme.name}: the page behind the open modal is reachable`);

    // Restore one, dismiss the other: the modal closes by itself (onClose called), and the page
    // behind takes clicks and typing again.
    await page.click('[data-testid="recovery-item"][data-session-id="a"] [data-testid="recovery-restore"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="recovery-item"]').length === 1);
    if (!(await page.evaluate(() => document.querySelector('dialog.cbr-modal').open))) fail(`${theme.name}: the modal closed with a session left in it`);
    await page.click('[data-testid="recovery-dismiss"]');
    await page.waitForFunction(() => window.hostCss.done.length === 2);
    const after = await page.waitForFunction(() => !document.querySelector('dialog.cbr-modal').open && window.hostCss, null, { timeout: 5000 })
      .then((h) => h.jsonValue())
      .catch(() => null);
    if (!after) fail(`${theme.name}: the modal stayed open with nothing left in it`);
    else if (after.closed < 1) fail(`${theme.name}: the modal closed without calling onClose`);
    await page.fill('[data-testid="host-text"]', 'typed after the modal closed', { timeout: 3000 }).catch((e) => fail(`${theme.name}: the page is still inert: ${e.message.split('\n')[0]}`));
    await page.click('[data-testid="host-action"]', { timeout: 3000 }).catch((e) => fail(`${theme.name}: the host's button is not clickable: ${e.message.split('\n')[0]}`));
    if (await page.$('[data-testid="recovery-banner"]')) fail(`${theme.name}: the banner stayed with nothing to recover`);
    console.log(`  restored and dismissed: modal ${after ? `closed (onClose ×${after.closed})` : 'open'}, the page takes input again`);
    if (errors.length) fail(`${theme.name}: page errors: ${errors.join('; ')}`);
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
if (failures.length) {
  console.error(`host CSS check: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log(`host CSS check passed${shots ? `; screenshots in ${shots}` : ''}`);
