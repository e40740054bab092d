// The server copy (issue 17) as the tests see it: the page with the "Keep a copy on the server"
// switch turned on, its indicator's states timed in Node, the owner's copies as the API lists
// them, and the copy's document as object storage holds it.
import assert from 'node:assert/strict';
import { api } from './api.mjs';
import { Browser, newProfile } from './browser.mjs';
import { EventLog, openDemo, recordEvents, tid, ttsUrl } from './demo.mjs';

/** An EventLog whose events carry the Node time they arrived (`at`, ms). */
export class TimedLog extends EventLog {
  push(event) {
    event.at = Date.now();
    super.push(event);
  }
}

/** The browser on `profile` with the demo open, its events recorded with their times. */
export async function startTimed(profile, query = {}) {
  const browser = await Browser.launch(profile);
  const log = new TimedLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  await openDemo(page, { query });
  const ready = (await log.waitFor('ready')).detail;
  return { browser, log, page, ready };
}

/**
 * A fresh start of the browser on `profile` straight at `url` (a recovery link: opened in a new
 * browser, not as a same-document hash change of a page already open), events timed.
 */
export async function startAt(profile, url) {
  const browser = await Browser.launch(profile);
  const log = new TimedLog();
  await recordEvents(browser, log);
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  const ready = (await log.waitFor('ready')).detail;
  return { browser, log, page, ready };
}

/**
 * Turns the switch on, as a person does (the page reloads to open its store with the copy on);
 * resolves with the reloaded page's `ready` event. A no-op when it is on already.
 */
export async function turnCopyOn(page, log) {
  await page.waitForSelector(tid('server-copy'));
  if (await page.evaluate((s) => document.querySelector(s).checked, tid('server-copy'))) {
    return (await log.waitFor('ready')).detail;
  }
  const after = log.seq;
  await page.click(tid('server-copy'));
  const ready = (await log.waitFor('ready', () => true, { after })).detail;
  await page.waitForSelector('html[data-ready="true"]');
  assert.equal(await page.evaluate((s) => document.querySelector(s).checked, tid('server-copy')), true, 'the switch stays on after the reload');
  return ready;
}

/** The indicator's current `data-state`. */
export const indicatorState = (page) => page.attr(tid('autosave-indicator'), 'data-state');

/** The first indicator event in `states` at or after log position `after`. */
export function waitIndicator(log, states, { after = 0, timeout = 60_000 } = {}) {
  const want = Array.isArray(states) ? states : [states];
  return log.waitFor('indicator', (d) => want.includes(d.state), { after, timeout });
}

/** The indicator states announced from log position `after` on, in order (repeats collapsed). */
export function indicatorTrail(log, after = 0) {
  const out = [];
  for (const e of log.events.slice(after)) if (e.name === 'indicator' && out.at(-1) !== e.detail.state) out.push(e.detail.state);
  return out;
}

/** The page's client secret (the owner's identity), from its localStorage mirror. */
export async function clientSecret(page) {
  const secret = await page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k.endsWith(':client-secret')) return localStorage.getItem(k);
    }
    return null;
  });
  assert.ok(secret, 'the client secret is mirrored to localStorage');
  return secret;
}

/** `GET /api/recovery/sessions` as `secret` (or `bearer` at `base`): the owner's copies by id. */
export async function listCopies({ secret, bearer, base } = {}) {
  const res = await api('/api/recovery/sessions', { secret, bearer, base });
  assert.equal(res.status, 200, `GET /api/recovery/sessions: ${res.status} ${JSON.stringify(res.body)}`);
  return new Map(res.body.sessions.map((s) => [s.session_id, s]));
}

/**
 * The copy's document as object storage holds it (route 3's presigned GET; fetch decodes the
 * gzip), parsed; null when there is no copy.
 */
export async function copyDocument({ secret, bearer, base, sessionId }) {
  const res = await api(`/api/recovery/sessions/${encodeURIComponent(sessionId)}`, { secret, bearer, base });
  if (res.status === 404 || res.status === 410) return null;
  assert.equal(res.status, 200, `GET /api/recovery/sessions/{id}: ${res.status} ${JSON.stringify(res.body)}`);
  const doc = await fetch(res.body.url);
  assert.ok(doc.ok, `the document's presigned GET: ${doc.status}`);
  return { doc: JSON.parse(await doc.text()), parts: res.body.parts, listed: res.body };
}

/** Polls `fn()` until it returns something truthy (or `timeout` ms pass: then its last value). */
export async function eventually(fn, { timeout = 30_000, every = 250 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A fresh profile with the copy on and the demo open (the speech endpoint at full speed). */
export async function withCopy(label, query = { tts: ttsUrl({ chunk_delay_ms: 0 }) }) {
  const profile = newProfile(label);
  const s = await startTimed(profile, query);
  await turnCopyOn(s.page, s.log);
  return { profile, ...s };
}

/** Types `text` at the end of the editor; resolves with the session id and the commit event. */
export async function typeAndCommit(page, log, text) {
  const seq = log.seq;
  await page.type(tid('tts-text'), text, { delay: 2, end: true });
  const want = await page.value(tid('tts-text'));
  const committed = await log.waitFor('committed', (d) => d.kind === 'session' && d.text === want, { after: seq, timeout: 20_000 })
    .catch((e) => {
      const last = log.all('committed').at(-1)?.detail;
      throw new Error(`${e.message}: the editor shows ${JSON.stringify(want)}, the last commit was ${JSON.stringify(last?.text)}; ` +
        `the indicator went ${indicatorTrail(log, seq).join(' > ')}`);
    });
  return { id: committed.detail.id, text: want, committed };
}
