// The demo page as the tests see it: its `demo:*` events recorded in Node as they happen, and the
// actions a user takes. The page is at DEMO_PATH (default `/`) under RECOVERY_BASE_URL: the plain
// demo and the React example carry the same data-testids.
import { BASE_URL, Browser } from './browser.mjs';

/** The page's path: `/` for the plain demo, `/react/` for the React example. */
export const DEMO_PATH = process.env.DEMO_PATH ?? '/';
/** The page's URL with `query` as search parameters. */
export function demoUrl(query = {}) {
  const url = new URL(DEMO_PATH, `${BASE_URL}/`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.href;
}

const EVENTS = [
  'ready', 'indicator', 'status', 'committed', 'tts', 'generation', 'restored', 'dismissed',
  'progress', 'backup', 'recovered',
  // The server copy's (issue 17): a session's recovery link made, the server's copies offered.
  'recovery-link', 'server-copies',
];

export const tid = (id) => `[data-testid="${id}"]`;

/** Everything a page announced, in order, and ways to wait for more. */
export class EventLog {
  constructor() {
    this.events = [];
    this.waiters = [];
  }

  push(event) {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => !(w.match(event) && (w.resolve(event), true)));
  }

  all(name, filter = () => true) {
    return this.events.filter((e) => e.name === name && filter(e.detail));
  }

  /** The first event (already seen or still to come) with `name` that passes `filter`. */
  waitFor(name, filter = () => true, { timeout = 60_000, after = 0 } = {}) {
    const match = (e) => e.name === name && e.seq >= after && filter(e.detail);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no demo:${name} event matching ${filter} within ${timeout} ms`));
      }, timeout);
      const done = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
      const fail = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.waiters.push({ match, resolve: done, fail });
    });
  }

  get seq() {
    return this.events.length;
  }

  /** The page is gone (its browser was killed): nothing more will come. */
  close() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.fail(new Error('the browser is gone'));
  }
}

/**
 * Records the demo's events of every page of `browser` into `log` (one log per browser run).
 * Call once per browser, before opening the page.
 */
export async function recordEvents(browser, log) {
  await browser.exposeFunction('__e2eEvent', (page, name, detail) => {
    log.push({ seq: log.events.length, name, detail, page });
  });
  await browser.addInitScript((names) => {
    for (const name of names) {
      window.addEventListener(`demo:${name}`, (e) => window.__e2eEvent(name, e.detail));
    }
  }, EVENTS);
}

/** Opens the demo and waits until its recovery check is done (the page is shown). */
export async function openDemo(page, { query = {} } = {}) {
  await page.goto(demoUrl(query));
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  return page;
}

/** The TTS URL of the development endpoint with its delivery knobs. */
export function ttsUrl(knobs = {}) {
  const url = new URL(`${BASE_URL}/v1/audio/speech`);
  for (const [k, v] of Object.entries(knobs)) url.searchParams.set(k, String(v));
  return url.href;
}

export async function setSettings(page, { voice, exaggeration, cfgWeight, temperature, seed }) {
  if (voice !== undefined) await page.select(tid('tts-voice'), voice);
  if (exaggeration !== undefined) await page.fill(tid('tts-exaggeration'), String(exaggeration));
  if (cfgWeight !== undefined) await page.fill(tid('tts-cfg-weight'), String(cfgWeight));
  if (temperature !== undefined) await page.fill(tid('tts-temperature'), String(temperature));
  if (seed !== undefined) await page.fill(tid('tts-seed'), String(seed));
}

/** What the editor shows. */
export async function readEditor(page) {
  const value = (id) => page.value(tid(id));
  return {
    text: await value('tts-text'),
    voice: await value('tts-voice'),
    exaggeration: await value('tts-exaggeration'),
    cfgWeight: await value('tts-cfg-weight'),
    temperature: await value('tts-temperature'),
    seed: await value('tts-seed'),
  };
}

/** The audio parts shown for a session, in page order. */
export async function readChunks(page, sessionId) {
  return page.evalAll(`${tid('audio-chunk')}[data-session-id="${sessionId}"]`, (els) =>
    els.map((el) => ({
      index: Number(el.dataset.index),
      bytes: Number(el.dataset.bytes),
      sha256: el.dataset.sha256,
      stored: el.dataset.stored,
    })),
  );
}

/**
 * Decodes every audio part of a session with the browser's own media stack: the seconds of audio
 * in each, or an error message where one does not decode.
 */
export async function decodeChunks(page, sessionId) {
  return page.evaluate(async (id) => {
    const take = window.chatterboxDemo.takes.get(id);
    const ctx = new OfflineAudioContext(1, 1, 22050);
    const out = [];
    for (const c of [...take.chunks.values()].sort((a, b) => a.index - b.index)) {
      try {
        const audio = await ctx.decodeAudioData(c.bytes.slice(0));
        out.push({ index: c.index, seconds: audio.duration });
      } catch (e) {
        out.push({ index: c.index, error: String(e) });
      }
    }
    return out;
  }, sessionId);
}

/** Opens the recovery modal and restores `sessionId`; resolves with the demo:restored event. */
export async function restoreFromModal(page, log, sessionId) {
  if (!(await page.isVisible(tid('recovery-modal')))) await page.click(tid('recovery-open'));
  const item = `${tid('recovery-item')}[data-session-id="${sessionId}"]`;
  const after = log.seq;
  await page.click(`${item} ${tid('recovery-restore')}`);
  return (await log.waitFor('restored', (d) => d.id === sessionId, { after })).detail;
}

/** The browser on `profile` with the demo open and its events recorded. */
export async function start(profile, query = {}, launchOptions = {}) {
  const browser = await Browser.launch(profile, launchOptions);
  const log = new EventLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  await openDemo(page, { query });
  const ready = (await log.waitFor('ready')).detail;
  return { browser, log, page, ready };
}

/** The last session snapshot committed for `id` before now, per the page's own events. */
export function lastCommittedSession(log, id) {
  return log.all('committed', (d) => d.kind === 'session' && d.id === id).at(-1)?.detail ?? null;
}

/** Audio parts committed for `id`, by index. */
export function committedChunks(log, id) {
  const out = new Map();
  for (const { detail } of log.all('committed', (d) => d.kind === 'chunk' && d.id === id)) out.set(detail.index, detail);
  return out;
}
