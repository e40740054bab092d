// Faults the server-copy tests (copy.test.mjs, copy-kill-loop.test.mjs) inject from outside the
// page, the way they happen to a person: the network cut (the driver's offline emulation), the
// browser's IndexedDB lost between a crash and the next start (as Chromium deletes it after a
// damaged kill, or a wiped profile) while localStorage stays, and object storage frozen
// (SIGSTOP to the S3 emulator of the running stack).
import { readFileSync, readdirSync, rmSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BROWSER } from './browser.mjs';

/**
 * Cuts (`offline = true`) or restores the page's network through the driver: Chromium's context
 * goes offline (playwright-core), Firefox's tab gets WebDriver BiDi's
 * `emulation.setNetworkConditions {type: 'offline'}` (puppeteer-core's `setOfflineMode`). In both,
 * `navigator.onLine` follows, `offline`/`online` fire and every fetch fails, loopback included.
 */
export async function setOffline(page, offline) {
  if (BROWSER === 'chromium') await page.raw.context().setOffline(offline);
  else await page.raw.setOfflineMode(offline);
}

/** The folder or file names a browser gives an origin's storage: `http_127.0.0.1_3000`, `http+++127.0.0.1+3000`. */
function originNames(origin) {
  const u = new URL(origin);
  const scheme = u.protocol.replace(':', '');
  const port = u.port || (scheme === 'https' ? '443' : '80');
  return {
    chromium: `${scheme}_${u.hostname}_${port}`,
    firefox: u.port ? `${scheme}+++${u.hostname}+${u.port}` : `${scheme}+++${u.hostname}`,
  };
}

/**
 * Deletes the IndexedDB of `origin` from a profile whose browser is not running (after a kill),
 * leaving its localStorage: Chromium's `Default/IndexedDB/<origin>.indexeddb.leveldb` (and
 * `.blob`), Firefox's `storage/default/<origin>/idb`. Returns what it deleted; throws when there
 * was nothing to delete (a test that believes it wiped storage must have wiped something).
 */
export function deleteIndexedDB(profileDir, origin) {
  const names = originNames(origin);
  const deleted = [];
  if (BROWSER === 'chromium') {
    const dir = join(profileDir, 'Default', 'IndexedDB');
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      if (entry.startsWith(`${names.chromium}.indexeddb.`)) {
        rmSync(join(dir, entry), { recursive: true, force: true });
        deleted.push(join(dir, entry));
      }
    }
  } else {
    const idb = join(profileDir, 'storage', 'default', names.firefox, 'idb');
    if (existsSync(idb)) {
      rmSync(idb, { recursive: true, force: true });
      deleted.push(idb);
    }
  }
  if (deleted.length === 0) throw new Error(`no IndexedDB of ${origin} in ${profileDir} to delete`);
  return deleted;
}

/** The pid of the process listening on 127.0.0.1:`port` (or any address), from /proc. */
export function listenerPid(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m && inodes.has(m[1])) return Number(pid);
      } catch {
        // The fd closed meanwhile.
      }
    }
  }
  return null;
}

/** The S3 emulator's port, from the environment the stack shares (scripts/local-env.sh). */
export function s3Port() {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? (process.env.S3_PORT ? `http://127.0.0.1:${process.env.S3_PORT}` : null);
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_S3 (or S3_PORT) is not set: cannot find the S3 emulator to freeze');
  const u = new URL(endpoint);
  return Number(u.port || 80);
}

/**
 * Runs `fn()` with object storage frozen: SIGSTOP to the S3 emulator (the process listening on
 * its port and its children), SIGCONT in a finally, whatever `fn` does. Requests to it neither
 * fail nor answer meanwhile: the TCP handshake completes in the kernel and then nothing comes.
 */
export async function withObjectStorageFrozen(fn) {
  const port = s3Port();
  const pid = listenerPid(port);
  if (!pid) throw new Error(`no process listens on the S3 emulator's port ${port} (LOCAL_AWS=docker is not supported here)`);
  const pids = [pid, ...children(pid)];
  for (const p of pids) process.kill(p, 'SIGSTOP');
  const thaw = () => {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // Gone.
      }
    }
  };
  // Even if the test process dies in between, the emulator must not stay stopped.
  process.once('exit', thaw);
  try {
    return await fn({ pid, pids });
  } finally {
    thaw();
    process.removeListener('exit', thaw);
  }
}

/** Every descendant of `pid`, from /proc's parent links. */
function children(pid) {
  const parent = new Map();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone.
    }
  }
  const out = [];
  const walk = (of) => {
    for (const [p, pp] of parent) if (pp === of) {
      out.push(p);
      walk(p);
    }
  };
  walk(pid);
  return out;
}
