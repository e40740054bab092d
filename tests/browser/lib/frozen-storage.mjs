// Object storage that one test can freeze without touching anyone else's: a second local gateway,
// serving the same pages, whose S3 endpoint is a TCP relay (its own process) in front of the
// stack's S3 emulator. SIGSTOP to the relay is the emulator frozen as this gateway sees it:
// connections are accepted by the kernel and then nothing answers, exactly as with the emulator
// stopped (faults.mjs's withObjectStorageFrozen), while the other browser's suite, running side by
// side on the main gateway, goes on undisturbed.
//
// The page's origin is this gateway's, on the app port the bucket's CORS rules already allow for
// this browser (scripts/test-suite.sh puts :8766 and :8767 in ALLOWED_ORIGINS; cross-origin.test.mjs
// uses the same port per browser, never at the same time as this suite's other files).
import { spawn } from 'node:child_process';
import { BROWSER } from './browser.mjs';
import { s3Port } from './faults.mjs';
import { startGateway } from './gateway.mjs';

const PORT = Number(process.env.FROZEN_STORAGE_PORT ?? { chromium: 8766, firefox: 8767 }[BROWSER]);

const RELAY = `
const net = require('node:net');
const target = Number(process.argv[1]);
const server = net.createServer((c) => {
  const s = net.connect(target, '127.0.0.1');
  c.pipe(s).pipe(c);
  c.on('error', () => s.destroy());
  s.on('error', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/**
 * Starts the relay and the gateway; resolves with `{ base, frozen(fn), stop() }`: `base` is the
 * gateway's origin (pages and API), `frozen(fn)` runs `fn` with the relay stopped and always
 * continues it afterwards.
 */
export async function startFrozenStorage() {
  const relay = spawn(process.execPath, ['-e', RELAY, String(s3Port())], { stdio: ['ignore', 'pipe', 'inherit'] });
  const relayPort = await new Promise((resolve, reject) => {
    relay.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    relay.once('exit', (code) => reject(new Error(`the S3 relay exited (${code})`)));
  });
  const thaw = () => {
    try {
      process.kill(relay.pid, 'SIGCONT');
    } catch {
      // Gone.
    }
  };
  const { base, stop } = await startGateway({
    port: PORT,
    env: {
      ALLOWED_ORIGINS: `http://127.0.0.1:${PORT}`,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${relayPort}`,
    },
    what: 'the gateway for frozen object storage',
    onStop: () => {
      thaw();
      relay.kill('SIGKILL');
    },
  });
  const frozen = async (fn) => {
    process.kill(relay.pid, 'SIGSTOP');
    try {
      return await fn();
    } finally {
      thaw();
    }
  };
  return { base, frozen, stop };
}
