// The start-up hint (@chatterbox/recovery-client/hint) against a fake localStorage and a fake
// <html>: what it reads, that it never throws, and that its inline-script form does the same.
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyRecoveryHint,
  markCleanExit,
  readRecoveryHint,
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

afterEach(() => {
  delete (globalThis as { localStorage?: unknown }).localStorage;
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

describe('recoveryHintScript', () => {
  it('is a classic script that marks <html> for the given database', () => {
    useStorage(fakeStorage({ 'chatterbox-recovery:user-7:index': JSON.stringify({ a: Date.now() - HOUR }) }));
    const root = fakeRoot();
    const document = { documentElement: root };
    new Function('document', recoveryHintScript({ dbName: 'user-7' }))(document);
    expect(root.dataset.recoveryHint).toBe('crashed');
    new Function('document', recoveryHintScript())({ documentElement: fakeRoot() });
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
