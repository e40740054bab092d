// The start-up hint (@chatterbox/recovery-client/hint) against a fake localStorage, a fake IndexedDB and a fake
// <html>: what it reads, that it never throws, and that its inline-script form does the same.
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyRecoveryHint,
  markCleanExit,
  onRecoveryHint,
  readRecoveryHint,
  recoveryHinted,
  recoveryHintScript,
} from '@chatterbox/recovery-client/hint';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

function fakeStorage(items: Record<string, string>) {
  return {
    items,
    getItem: (key: string) => items[key] ?? null,
    setItem: (key: string, value: string) => void (items[key] = value),
  };
}

function fakeRoot() {
  const classes = new Set<string>();
  return { classes, classList: { add: (c: string) => classes.add(c) }, dataset: {} as Record<string, string> };
}

function useStorage(storage: unknown) {
  Object.defineProperty(globalThis, 'localStorage', { configurable: true, get: () => storage });
}

function blockStorage() {
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get: () => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
  });
}

/** The store's database as the hint reads it: sessions by `updatedAt`, tab rows by id; `v1` has no `tabs` store. */
interface FakeDb {
  sessions: { id: string; updatedAt: number; tabId: string }[];
  tabs: Record<string, { tabId: string; cleanExit: boolean }>;
  v1?: boolean;
}

type FakeRequest = { readyState?: string; result?: unknown; transaction?: unknown; onsuccess?: () => void; onupgradeneeded?: (e: { dataLoss: string; dataLossMessage: string }) => void; onerror?: (e: unknown) => void };

/**
 * A fake `indexedDB` holding `dbs` (by name), answering each request in a later task as a browser does. `log` is
 * what was done to it: opens, transactions, upgrades aborted, connections closed.
 */
function useIndexedDb(dbs: Record<string, FakeDb>, lost: Record<string, string> = {}) {
  const log: string[] = [];
  const answer = (req: FakeRequest, result: unknown) =>
    setTimeout(() => {
      req.result = result;
      req.readyState = 'done';
      req.onsuccess?.();
    });
  const connection = (db: FakeDb) => ({
    transaction(stores: string[]) {
      log.push(`transaction ${stores.join(',')}`);
      if (db.v1 && stores.includes('tabs')) throw new DOMException('One of the specified object stores was not found.', 'NotFoundError');
      const newest = [...db.sessions].sort((a, b) => b.updatedAt - a.updatedAt)[0];
      const request = (result: unknown) => {
        const req: FakeRequest = { readyState: 'pending' };
        answer(req, result);
        return req;
      };
      const store = (name: string) => ({
        index: (index: string) => ({
          openCursor: (range: null, direction: string) =>
            request(name == 'sessions' && index == 'updatedAt' && range === null && direction == 'prev' && newest ? { value: newest } : null),
        }),
        get: (key: string) => request(name == 'tabs' ? db.tabs[key] : undefined),
        getAll: () => request(name == 'tabs' ? Object.values(db.tabs) : db.sessions),
      });
      return { objectStore: store };
    },
    close: () => log.push('close'),
  });
  const indexedDB = {
    open(name: string, version?: number) {
      log.push(version === undefined ? `open ${name}` : `open ${name} v${version}`);
      const req: FakeRequest = {};
      setTimeout(() => {
        const db = dbs[name];
        if (db) return answer(req, connection(db));
        // A missing database: the open would create it, unless its upgrade is aborted.
        let aborted = false;
        req.transaction = { abort: () => ((aborted = true), log.push('abort')) };
        // Chromium's report of a database it deleted as damaged comes with this upgrade.
        req.onupgradeneeded?.({ dataLoss: lost[name] ? 'total' : 'none', dataLossMessage: lost[name] ?? '' });
        if (!aborted) log.push(`created ${name}`);
        req.onerror?.({ preventDefault() {} });
      });
      return req;
    },
  };
  Object.defineProperty(globalThis, 'indexedDB', { configurable: true, get: () => indexedDB });
  return log;
}

/**
 * Lets the fake IndexedDB's tasks run: rounds of zero-delay timers, each queued behind the fake's answers of the round
 * before (a fixed delay would be outrun by a chain of answers on a loaded machine).
 */
async function settle() {
  for (let round = 0; round < 10; round++) await new Promise((resolve) => setTimeout(resolve, 0));
}

afterEach(() => {
  delete (globalThis as { localStorage?: unknown }).localStorage;
  delete (globalThis as { indexedDB?: unknown }).indexedDB;
});

describe('readRecoveryHint', () => {
  it('counts the sessions saved since the last clean exit within a day as unclosed', () => {
    useStorage(fakeStorage({
      'chatterbox-recovery:chatterbox-recovery:index': JSON.stringify({ a: NOW - HOUR, b: NOW - 3 * HOUR, old: NOW - 30 * HOUR }),
      'chatterbox-recovery:chatterbox-recovery:clean-exit': String(NOW - 2 * HOUR),
    }));
    expect(readRecoveryHint({ now: NOW })).toEqual({ sessions: 3, unclosed: 1, newest: NOW - HOUR, crashed: true });
  });

  it('says nothing crashed after a clean exit later than every session', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:chatterbox-recovery:index': JSON.stringify({ a: NOW - HOUR }) }));
    markCleanExit({ now: NOW - 1 });
    expect(readRecoveryHint({ now: NOW })).toMatchObject({ sessions: 1, crashed: false });
  });

  it("reads the per-user database's index when given its dbName", () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:user-42:index': JSON.stringify({ a: NOW - HOUR }) }));
    expect(readRecoveryHint({ now: NOW })).toBeNull();
    expect(readRecoveryHint({ dbName: 'user-42', now: NOW })).toMatchObject({ sessions: 1, crashed: true });
  });

  it('returns null when storage is blocked, empty or holds garbage', () => {
    blockStorage();
    expect(readRecoveryHint()).toBeNull();
    useStorage(fakeStorage({}));
    expect(readRecoveryHint()).toBeNull();
    for (const garbage of ['{not json', '[1,2]', '"text"', '42', 'null']) {
      useStorage(fakeStorage({ 'chatterbox-recovery:chatterbox-recovery:index': garbage }));
      expect(readRecoveryHint(), garbage).toBeNull();
    }
  });

  it('ignores entries that are not times', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:chatterbox-recovery:index': JSON.stringify({ a: 'soon', b: null, c: NOW - HOUR }) }));
    expect(readRecoveryHint({ now: NOW })).toEqual({ sessions: 1, unclosed: 1, newest: NOW - HOUR, crashed: true });
  });
});

describe('applyRecoveryHint', () => {
  it('marks the root when work may be waiting and keeps the time it first showed', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:chatterbox-recovery:index': JSON.stringify({ a: Date.now() - HOUR }) }));
    const root = fakeRoot();
    applyRecoveryHint(root as unknown as HTMLElement);
    const first = root.dataset.recoveryHintAt;
    applyRecoveryHint(root as unknown as HTMLElement);
    expect(root.classes.has('recovery-hinted')).toBe(true);
    expect(root.dataset.recoveryHint).toBe('crashed');
    expect(root.dataset.recoveryHintFrom).toBeUndefined();
    expect(first).toMatch(/^\d/);
    expect(root.dataset.recoveryHintAt).toBe(first);
  });

  it('leaves the root alone when nothing is waiting, and never throws without storage', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:chatterbox-recovery:index': '{}' }));
    const root = fakeRoot();
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toMatchObject({ crashed: false });
    expect(root.classes.size).toBe(0);
    blockStorage();
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toBeNull();
    expect(() => markCleanExit()).not.toThrow();
  });
});

describe('applyRecoveryHint: IndexedDB when the localStorage index lost the last save', () => {
  const crashed = (): FakeDb => ({
    sessions: [{ id: 'old', updatedAt: Date.now() - 3 * HOUR, tabId: 'tab-0' }, { id: 'new', updatedAt: Date.now() - 500, tabId: 'tab-1' }],
    tabs: { 'tab-0': { tabId: 'tab-0', cleanExit: true }, 'tab-1': { tabId: 'tab-1', cleanExit: false } },
  });

  it("marks the root, a task later, when the newest session's tab has no clean exit; the sync answer stays localStorage's", async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({ 'chatterbox-recovery': crashed() });
    const root = fakeRoot();
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toBeNull();
    expect(root.classes.size).toBe(0);
    await settle();
    expect(root.classes.has('recovery-hinted')).toBe(true);
    expect(root.dataset.recoveryHint).toBe('crashed');
    expect(root.dataset.recoveryHintAt).toMatch(/^\d/);
    expect(root.dataset.recoveryHintFrom).toBe('indexeddb');
    // Opened without a version (never an upgrade) and closed again at once.
    expect(log).toEqual(['open chatterbox-recovery', 'transaction sessions,tabs', 'close']);
  });

  it('also when the index is there but older than the last save (a clean exit since its last write)', async () => {
    useStorage(fakeStorage({
      'chatterbox-recovery:chatterbox-recovery:index': JSON.stringify({ old: Date.now() - 3 * HOUR }),
      'chatterbox-recovery:chatterbox-recovery:clean-exit': String(Date.now() - 2 * HOUR),
    }));
    useIndexedDb({ 'chatterbox-recovery': crashed() });
    const root = fakeRoot();
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toMatchObject({ sessions: 1, crashed: false });
    await settle();
    expect(root.dataset.recoveryHint).toBe('crashed');
  });

  it('leaves the root alone after a clean exit, for an old session, or one saved before the clean-exit mark', async () => {
    const cases: [string, FakeDb, Record<string, string>][] = [
      ['tab closed cleanly', { ...crashed(), tabs: { 'tab-1': { tabId: 'tab-1', cleanExit: true } } }, {}],
      ['older than maxAge', { ...crashed(), sessions: [{ id: 'a', updatedAt: Date.now() - 30 * HOUR, tabId: 'tab-1' }] }, {}],
      ['before the clean-exit mark', crashed(), { 'chatterbox-recovery:chatterbox-recovery:clean-exit': String(Date.now()) }],
      ['no sessions', { sessions: [], tabs: {} }, {}],
    ];
    for (const [what, db, items] of cases) {
      useStorage(fakeStorage(items));
      useIndexedDb({ 'chatterbox-recovery': db });
      const root = fakeRoot();
      applyRecoveryHint(root as unknown as HTMLElement);
      await settle();
      expect(root.classes.size, what).toBe(0);
    }
  });

  it("reads the user's own database", async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({ 'chatterbox-recovery': { sessions: [], tabs: {} }, 'user-7': crashed() });
    const root = fakeRoot();
    applyRecoveryHint(root as unknown as HTMLElement, { dbName: 'user-7' });
    await settle();
    expect(root.dataset.recoveryHint).toBe('crashed');
    expect(log[0]).toBe('open user-7');
  });

  it('never creates a missing database: its upgrade is aborted', async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({});
    const root = fakeRoot();
    applyRecoveryHint(root as unknown as HTMLElement);
    await settle();
    expect(log).toEqual(['open chatterbox-recovery', 'abort']);
    expect(root.classes.size).toBe(0);
  });

  it('closes the connection and says nothing on an older schema, and never throws without IndexedDB', async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({ 'chatterbox-recovery': { ...crashed(), v1: true } });
    const root = fakeRoot();
    applyRecoveryHint(root as unknown as HTMLElement);
    await settle();
    expect(log).toEqual(['open chatterbox-recovery', 'transaction sessions,tabs', 'close']);
    expect(root.classes.size).toBe(0);
    Object.defineProperty(globalThis, 'indexedDB', {
      configurable: true,
      get: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toBeNull();
    blockStorage();
    expect(applyRecoveryHint(root as unknown as HTMLElement)).toBeNull();
  });

  it("reads at once, and hands Chromium's report of a lost database to the store on <html>", async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({}, { 'chatterbox-recovery': 'Corruption: checksum mismatch' });
    const html = fakeRoot();
    const page = globalThis as unknown as Record<string, unknown>;
    page.document = { readyState: 'loading', documentElement: html };
    try {
      applyRecoveryHint();
      await settle();
      // The report is the first open's only: the store takes it from here (index.ts, browserDataLoss).
      expect(html.dataset.recoveryDataLoss).toBe('Corruption: checksum mismatch');
      expect(html.dataset.recoveryDataLossDb).toBe('chatterbox-recovery');
      expect(log).toEqual(['open chatterbox-recovery', 'abort']);
      expect(html.dataset.recoveryHint).toBeUndefined();
    } finally {
      delete page.document;
    }
  });

  it('is not read by readRecoveryHint, which stays synchronous and touches nothing', async () => {
    useStorage(fakeStorage({}));
    const log = useIndexedDb({ 'chatterbox-recovery': crashed() });
    expect(readRecoveryHint()).toBeNull();
    await settle();
    expect(log).toEqual([]);
  });
});

describe('recoveryHinted and onRecoveryHint: the mark, for code that runs before it lands', () => {
  it("follow <html>'s mark as the IndexedDB read sets it, after the synchronous answer said nothing", async () => {
    useStorage(fakeStorage({}));
    useIndexedDb({
      'chatterbox-recovery': { sessions: [{ id: 'a', updatedAt: Date.now() - 500, tabId: 't' }], tabs: { t: { tabId: 't', cleanExit: false } } },
    });
    const html = fakeRoot();
    // The browser's MutationObserver, reduced to what onRecoveryHint asks of it: attribute changes on one element.
    const observers: { filter: string[]; callback: () => void; on: boolean }[] = [];
    const page = globalThis as unknown as Record<string, unknown>;
    page.MutationObserver = class {
      entry = { filter: [] as string[], callback: () => {}, on: false };
      constructor(callback: () => void) {
        this.entry.callback = callback;
        observers.push(this.entry);
      }
      observe(target: unknown, { attributeFilter }: { attributeFilter: string[] }) {
        expect(target).toBe(root);
        Object.assign(this.entry, { filter: attributeFilter, on: true });
      }
      disconnect() {
        this.entry.on = false;
      }
    };
    const watched = new Proxy(html.dataset, {
      set(target, key, value) {
        target[key as string] = value;
        const attribute = `data-${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        for (const o of observers) if (o.on && o.filter.includes(attribute)) o.callback();
        return true;
      },
    });
    const root = { ...html, dataset: watched };
    page.document = { readyState: 'loading', documentElement: root };
    try {
      expect(recoveryHinted()).toBe(false);
      const seen: boolean[] = [];
      const stop = onRecoveryHint(() => seen.push(recoveryHinted()));
      expect(applyRecoveryHint()).toBeNull(); // the index had nothing: the answer is IndexedDB's, later
      await settle();
      expect(seen).toEqual([true]);
      expect(recoveryHinted()).toBe(true);
      stop();
      expect(observers.every((o) => !o.on)).toBe(true);
    } finally {
      delete page.document;
      delete page.MutationObserver;
    }
  });

  it('say nothing is marked without a document', () => {
    expect(recoveryHinted()).toBe(false);
  });
});

describe('recoveryHintScript', () => {
  it('is a classic script that marks <html> for the given database', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:user-7:index': JSON.stringify({ a: Date.now() - HOUR }) }));
    const root = fakeRoot();
    const document = { documentElement: root };
    new Function('document', recoveryHintScript({ dbName: 'user-7' }))(document);
    expect(root.dataset.recoveryHint).toBe('crashed');
    new Function('document', recoveryHintScript())({ documentElement: fakeRoot() });
  });

  it("falls back to the user's IndexedDB database the same way", async () => {
    useStorage(fakeStorage({}));
    useIndexedDb({
      'user-7': { sessions: [{ id: 'a', updatedAt: Date.now() - 500, tabId: 't' }], tabs: { t: { tabId: 't', cleanExit: false } } },
    });
    const root = fakeRoot();
    new Function('document', recoveryHintScript({ dbName: 'user-7' }))({ documentElement: root });
    await settle();
    expect(root.dataset.recoveryHint).toBe('crashed');
  });
});

describe('hint-script.js', () => {
  it('is recoveryHintScript() as generated: the classic file cannot drift from the module', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = await readFile(new URL('../../../js/hint-script.js', import.meta.url), 'utf8');
    const code = file.split('\n').filter((line) => !line.startsWith('//')).join('\n').trim();
    // Regenerate: node -e "import('./js/hint.js').then(m => console.log(m.recoveryHintScript() + ';'))" (in client/)
    // Compared without whitespace and semicolons: Vite's transform of the module adds some.
    const bare = (text: string) => text.replace(/[\s;]/g, '');
    expect(bare(code)).toBe(bare(recoveryHintScript()));
  });
});
