// A real Chromium process on a real profile directory, driven over the DevTools protocol, that can
// be killed like a crash (SIGKILL to its whole process group) and started again on the same
// profile.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const BASE_URL = (process.env.RECOVERY_BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');

/** The flags the project runs Chromium with (as root: no sandbox), headless unless HEADFUL=1. */
export function chromiumFlags(profileDir) {
  return [
    ...(process.env.HEADFUL === '1' ? [] : ['--headless']),
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
    '--window-size=1280,900',
    `--user-data-dir=${profileDir}`,
    'about:blank',
  ];
}

/** A fresh profile directory, removed at exit unless KEEP_PROFILES=1. */
export function newProfile(label = 'profile') {
  const dir = mkdtempSync(join(tmpdir(), `chatterbox-e2e-${label}-`));
  if (process.env.KEEP_PROFILES !== '1') {
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}

/** Chromium processes still running: killed when the tests exit, whatever happened. */
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

export class Browser {
  /** @param {import('node:child_process').ChildProcess} child */
  constructor(child, browser, profileDir) {
    this.child = child;
    this.browser = browser;
    this.profileDir = profileDir;
    running.add(child.pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child.pid);
        resolve({ code, signal });
      }),
    );
  }

  /** Starts Chromium on `profileDir` and connects to it. */
  static async launch(profileDir) {
    // Its own process group, so that a kill takes the renderers and helpers down at the same time.
    const child = spawn(CHROMIUM, chromiumFlags(profileDir), {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.add(child.pid);
    let stderr = '';
    const endpoint = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${stderr}`)), 60_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = stderr.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited (${code ?? signal}) before it was ready:\n${stderr}`));
      });
    });
    // Keep draining stderr, or a chatty Chromium blocks on a full pipe.
    child.stderr.on('data', () => {});
    child.stderr.unref?.();
    const browser = await chromium.connectOverCDP(endpoint);
    return new Browser(child, browser, profileDir);
  }

  get context() {
    return this.browser.contexts()[0];
  }

  async newPage() {
    const page = await this.context.newPage();
    for (const p of this.context.pages()) if (p !== page && p.url() === 'about:blank') await p.close();
    return page;
  }

  /** A crash: SIGKILL to Chromium and every process it started, at once. */
  async kill() {
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await this.exited;
    // Helpers that left the group (none expected) die with their parent's pipe; give the
    // profile's lock a moment to be released by the kernel.
    await this.browser.close().catch(() => {});
  }

  /** A normal quit: tabs closed the way a user closes them, then the browser. */
  async close() {
    for (const page of this.context.pages()) {
      // With runBeforeUnload, close() only starts the closing: wait until the tab is gone (its
      // pagehide handlers ran), as a user's browser would before it quits.
      const gone = new Promise((resolve) => page.once('close', resolve));
      await page.close({ runBeforeUnload: true }).catch(() => {});
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    const cdp = await this.browser.newBrowserCDPSession().catch(() => null);
    await cdp?.send('Browser.close').catch(() => {});
    const quit = await Promise.race([this.exited, new Promise((r) => setTimeout(() => r(null), 20_000))]);
    if (!quit) await this.kill();
    await this.browser.close().catch(() => {});
  }
}
