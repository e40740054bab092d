// A second local gateway beside the one under test, over the same emulators (its environment is
// this process's, as scripts/test-suite.sh sets it, with a few variables changed): what
// frozen-storage.mjs and jwt-gateway.mjs start, each with its own settings.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const GATEWAY = process.env.LOCAL_GATEWAY ?? join(ROOT, 'target', 'debug', 'local-gateway');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the gateway on `port` with `env` over this process's environment and waits until its
 * health route answers; resolves with `{ base, stop() }`. `stop()` (also run when this process
 * exits) ends the gateway, then runs `onStop`. When the gateway does not come up within 30 s it
 * is stopped and the promise rejects, naming `what` and quoting the gateway's stderr.
 */
export async function startGateway({ port, env, what, onStop = () => {} }) {
  const base = `http://127.0.0.1:${port}`;
  const gateway = spawn(GATEWAY, [], {
    env: { ...process.env, GATEWAY_ADDR: `127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  gateway.stderr.on('data', (d) => (stderr += d));
  const stop = () => {
    gateway.kill('SIGTERM');
    onStop();
  };
  process.once('exit', stop);
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/api/recovery/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300 || gateway.exitCode !== null) {
      stop();
      throw new Error(`${what} did not start on ${base}:\n${stderr}`);
    }
    await sleep(100);
  }
  return { base, stop };
}
