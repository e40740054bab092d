// A real browser process on a real profile directory that can be killed like a crash (SIGKILL to
// its whole process group) and started again on the same profile, in either of two browsers:
//
// - `E2E_BROWSER=chromium` (the default): Debian's Chromium, driven by playwright-core over the
//   DevTools protocol;
// - `E2E_BROWSER=firefox`: Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi
//   (stock Firefox speaks it; playwright-core needs a patched Firefox).
//
// The tests see one small interface, the same in both: `Browser` (launch, newPage, kill, close)
// and `Page` (goto, click, fill, type, read the DOM, evaluate). Selectors are CSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export const BROWSER = process.env.E2E_BROWSER ?? 'chromium';
if (!['chromium', 'firefox'].includes(BROWSER)) throw new Error(`E2E_BROWSER must be chromium or firefox, not ${BROWSER}`);
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const BASE_URL = (process.env.RECOVERY_BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const HEADLESS = process.env.HEADFUL !== '1';
const VIEWPORT = { width: 1280, height: 900 };

/** The flags the project runs Chromium with (as root: no sandbox), headless unless HEADFUL=1. */
export function chromiumFlags(profileDir) {
  return [
    ...(HEADLESS ? ['--headless'] : []),
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-features=Translate,OptimizationHints,OnDeviceModelPerformanceParams,MediaRouter',
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    `--window-size=${VIEWPORT.width},${VIEWPORT.height}`,
    `--user-data-dir=${profileDir}`,
    'about:blank',
  ];
}

/** Firefox's flags; its preferences go into the profile's user.js (see `launchFirefox`). */
export function firefoxFlags(profileDir) {
  return [
    ...(HEADLESS ? ['--headless'] : []),
    '--no-remote',
    '--remote-debugging-port=0',
    '--width', String(VIEWPORT.width),
    '--height', String(VIEWPORT.height),
    '--profile', profileDir,
    'about:blank',
  ];
}

/** A fresh profile directory, removed at exit unless KEEP_PROFILES=1. */
export function newProfile(label = 'profile') {
  const dir = mkdtempSync(join(tmpdir(), `chatterbox-e2e-${BROWSER}-${label}-`));
  if (process.env.KEEP_PROFILES !== '1') {
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}

/**
 * Damages a killed Chromium profile's IndexedDB as a crash can: 64 bytes a third of the way into
 * each write-ahead log overwritten. At its next start Chromium finds the checksum wrong, deletes
 * the database and reports `dataLoss` to the first open. Throws when there is no log to damage.
 */
export function damageChromiumIndexedDb(profile) {
  const dir = join(profile, 'Default', 'IndexedDB');
  const store = readdirSync(dir).find((name) => name.endsWith('.indexeddb.leveldb'));
  const logs = readdirSync(join(dir, store)).filter((name) => name.endsWith('.log') && name !== 'LOG');
  if (logs.length === 0) throw new Error(`no write-ahead log in ${join(dir, store)}`);
  for (const name of logs) {
    const file = join(dir, store, name);
    const bytes = readFileSync(file);
    bytes.fill(0xa5, Math.floor(bytes.length / 3), Math.floor(bytes.length / 3) + 64);
    writeFileSync(file, bytes);
  }
}

/** Browser processes still running: killed when the tests exit, whatever happened. */
const running = new Set();
function killAll() {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
process.on('exit', killAll);
// A failed test leaves its browser up, which would keep the test file from ever finishing.
if (process.env.NODE_TEST_CONTEXT) after(killAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `exe` in its own process group (so that a kill takes every process it started down at
 * the same time) and resolves with the child and the first match of `ready` in its stderr.
 */
async function spawnBrowser(exe, args, ready, name) {
  const child = spawn(exe, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  running.add(child.pid);
  let stderr = '';
  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${stderr}`)), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = stderr.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${stderr}`));
    });
  });
  // Keep draining stderr, or a chatty browser blocks on a full pipe.
  child.stderr.on('data', () => {});
  child.stderr.unref?.();
  return { child, endpoint };
}

/** One function exposed to every page as `window[name]`, and one script run before any of its own. */
class PageSetup {
  constructor() {
    this.bindings = [];
    this.scripts = [];
  }
}

export class Browser {
  constructor(child, driver, profileDir) {
    this.child = child;
    this.driver = driver;
    this.profileDir = profileDir;
    this.name = BROWSER;
    this.setup = new PageSetup();
    /** @type {Page[]} */
    this.openPages = [];
    running.add(child.pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child.pid);
        resolve({ code, signal });
      }),
    );
  }

  /**
   * Starts the browser on `profileDir` and connects to it.
   * `firefoxPrefs`: preferences written to the Firefox profile (ignored by Chromium).
   */
  static async launch(profileDir, { firefoxPrefs = {} } = {}) {
    return BROWSER === 'firefox' ? launchFirefox(profileDir, firefoxPrefs) : launchChromium(profileDir);
  }

  /**
   * Exposes `fn(...args)` to every page opened from now on as `window[name]`, returning a promise;
   * in Node `fn` also receives the `Page` first.
   */
  async exposeFunction(name, fn) {
    this.setup.bindings.push({ name, fn });
    if (BROWSER === 'chromium') {
      await this.driver.contexts()[0].exposeBinding(name, ({ page }, ...args) => fn(this.#wrap(page), ...args));
    }
  }

  /** Runs `fn(arg)` in every page opened from now on, before the page's own scripts. */
  async addInitScript(fn, arg) {
    this.setup.scripts.push({ fn, arg });
    if (BROWSER === 'chromium') await this.driver.contexts()[0].addInitScript(fn, arg);
  }

  #wrap(raw) {
    let page = this.openPages.find((p) => p.raw === raw);
    if (!page) {
      page = new Page(raw, this);
      this.openPages.push(page);
    }
    return page;
  }

  /** A new tab (the start page's blank tab goes away). */
  async newPage() {
    if (BROWSER === 'chromium') {
      const context = this.driver.contexts()[0];
      const raw = await context.newPage();
      for (const p of context.pages()) if (p !== raw && p.url() === 'about:blank') await p.close();
      return this.#wrap(raw);
    }
    const raw = await this.driver.newPage();
    const page = this.#wrap(raw);
    for (const { name, fn } of this.setup.bindings) await raw.exposeFunction(name, (...args) => fn(page, ...args));
    for (const { fn, arg } of this.setup.scripts) await raw.evaluateOnNewDocument(fn, arg);
    await raw.setViewport(VIEWPORT);
    for (const p of await this.driver.pages()) if (p !== raw && p.url() === 'about:blank') await p.close();
    return page;
  }

  /** A crash: SIGKILL to the browser and every process it started, at once. */
  async kill() {
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await this.exited;
    await Promise.race([this.driver.close().catch(() => {}), sleep(5_000)]);
    if (BROWSER === 'firefox') this.driver.disconnect?.().catch?.(() => {});
  }

  /** A normal quit: tabs closed the way a user closes them, then the browser. */
  async close() {
    for (const page of [...this.openPages]) {
      // Wait until the tab is gone (its pagehide handlers ran), as a user's browser would before
      // it quits.
      await Promise.race([page.closeLikeUser(), sleep(10_000)]);
    }
    if (BROWSER === 'chromium') {
      const cdp = await this.driver.newBrowserCDPSession().catch(() => null);
      await cdp?.send('Browser.close').catch(() => {});
    } else {
      // browser.close ends the BiDi session and quits Firefox the normal way.
      this.driver.close().catch(() => {});
    }
    const quit = await Promise.race([this.exited, sleep(20_000).then(() => null)]);
    if (!quit) await this.kill();
    if (BROWSER === 'chromium') await this.driver.close().catch(() => {});
  }
}

async function launchChromium(profileDir) {
  const { chromium } = await import('playwright-core');
  const { child, endpoint } = await spawnBrowser(CHROMIUM, chromiumFlags(profileDir), /DevTools listening on (ws:\/\/\S+)/, 'Chromium');
  const driver = await chromium.connectOverCDP(endpoint);
  return new Browser(child, driver, profileDir);
}

async function launchFirefox(profileDir, prefs) {
  const [{ default: puppeteer }, { createProfile, Browser: Browsers }] = await Promise.all([
    import('puppeteer-core'),
    import('@puppeteer/browsers'),
  ]);
  // The preferences every automated Firefox needs (no first-run pages, no update checks, no
  // session restore after a crash: the tests open their tabs themselves), rewritten on every
  // start like Firefox's own prefs.js.
  await createProfile(Browsers.FIREFOX, {
    path: profileDir,
    preferences: {
      'browser.sessionstore.resume_from_crash': false,
      'browser.startup.page': 0,
      'toolkit.startup.max_resumed_crashes': -1,
      'browser.tabs.warnOnClose': false,
      'fission.webContentIsolationStrategy': 0,
      ...prefs,
    },
  });
  const { child, endpoint } = await spawnBrowser(FIREFOX, firefoxFlags(profileDir), /WebDriver BiDi listening on (ws:\/\/\S+)/, 'Firefox');
  const driver = await puppeteer.connect({
    browserWSEndpoint: `${endpoint}/session`,
    protocol: 'webDriverBiDi',
    defaultViewport: VIEWPORT,
    protocolTimeout: 120_000,
  });
  return new Browser(child, driver, profileDir);
}

/** The page actions the tests use, the same in both browsers. */
export class Page {
  constructor(raw, browser) {
    this.raw = raw;
    this.browser = browser;
  }

  get pw() {
    return BROWSER === 'chromium';
  }

  async goto(url) {
    await this.raw.goto(url, { waitUntil: 'load' });
  }

  url() {
    return this.raw.url();
  }

  async bringToFront() {
    await this.raw.bringToFront();
  }

  async waitForSelector(selector, { timeout = 60_000 } = {}) {
    await this.raw.waitForSelector(selector, { timeout });
  }

  /** Waits for `fn(arg)` to return something truthy in the page. */
  async waitForFunction(fn, arg, { timeout = 60_000 } = {}) {
    if (this.pw) await this.raw.waitForFunction(fn, arg, { timeout });
    else await this.raw.waitForFunction(fn, { timeout, polling: 50 }, arg);
  }

  async evaluate(fn, arg) {
    return this.raw.evaluate(fn, arg);
  }

  /** Clicks the element (visible, scrolled into view) with the mouse. */
  async click(selector) {
    if (this.pw) return this.raw.click(selector);
    await this.raw.waitForSelector(selector, { visible: true, timeout: 30_000 });
    await this.raw.click(selector);
  }

  /** Sets a field's value at once, as pasting would: one `input` and one `change` event. */
  async fill(selector, value) {
    await this.waitForSelector(selector);
    await this.raw.evaluate(
      ({ selector, value }) => {
        const el = document.querySelector(selector);
        el.focus();
        const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      },
      { selector, value: String(value) },
    );
  }

  async select(selector, value) {
    if (this.pw) await this.raw.selectOption(selector, value);
    else await this.raw.select(selector, value);
  }

  /** Focuses the field; with `end`, puts the caret after its last character. */
  async focus(selector, { end = false } = {}) {
    await this.waitForSelector(selector);
    await this.raw.evaluate(
      ({ selector, end }) => {
        const el = document.querySelector(selector);
        el.focus();
        if (end) el.setSelectionRange(el.value.length, el.value.length);
      },
      { selector, end },
    );
  }

  /**
   * Types `text` into the focused element key by key, like a person; `delay` ms between keys.
   * `onKey(i, at)` is called (and awaited) after key `i` was delivered to the page, with the time
   * in ms: the driver's answer to a key comes once the page has handled its events.
   */
  async typeFocused(text, { delay = 0, onKey } = {}) {
    let i = 0;
    for (const ch of text) {
      await this.raw.keyboard.type(ch);
      await onKey?.(i, Date.now());
      i++;
      if (delay) await sleep(delay);
    }
  }

  /** Focuses the field and types into it where the caret is (`end`: after its text). */
  async type(selector, text, { delay = 0, end = false, onKey } = {}) {
    await this.focus(selector, { end });
    await this.typeFocused(text, { delay, onKey });
  }

  /** Presses a key (`End`, `Enter`, …) in the field. */
  async press(selector, key) {
    await this.focus(selector);
    await this.raw.keyboard.press(key);
  }

  /** The field's value. */
  async value(selector) {
    return this.raw.evaluate((s) => document.querySelector(s).value, selector);
  }

  async text(selector) {
    return this.raw.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
  }

  async attr(selector, name) {
    return this.raw.evaluate(({ s, name }) => document.querySelector(s)?.getAttribute(name) ?? null, { s: selector, name });
  }

  /** The element exists, is rendered and is not hidden by CSS visibility. */
  async isVisible(selector) {
    return this.raw.evaluate((s) => {
      const el = document.querySelector(s);
      if (!el) return false;
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && el.checkVisibility({ visibilityProperty: true });
    }, selector);
  }

  async count(selector) {
    return this.raw.evaluate((s) => document.querySelectorAll(s).length, selector);
  }

  /** `fn(elements)` in the page over every element matching `selector`. */
  async evalAll(selector, fn) {
    return this.raw.$$eval(selector, fn);
  }

  async setViewport(size) {
    if (this.pw) await this.raw.setViewportSize(size);
    else await this.raw.setViewport(size);
  }

  async screenshot(path, selector) {
    if (selector) {
      const el = await this.raw.$(selector);
      await el.screenshot({ path });
    } else {
      await this.raw.screenshot({ path });
    }
  }

  /** Closes the tab the way a user does (beforeunload and pagehide run); resolves once it is gone. */
  async closeLikeUser() {
    const i = this.browser.openPages.indexOf(this);
    if (i >= 0) this.browser.openPages.splice(i, 1);
    if (this.pw) {
      const gone = new Promise((resolve) => this.raw.once('close', resolve));
      await this.raw.close({ runBeforeUnload: true }).catch(() => {});
      await gone;
    } else {
      // WebDriver BiDi's browsingContext.close answers once the tab is closed.
      await this.raw.close({ runBeforeUnload: true }).catch(() => {});
    }
  }
}
