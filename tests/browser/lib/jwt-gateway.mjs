// A second local gateway in JWT mode over the same emulators, table and bucket as the gateway
// under test (its environment is this process's, as scripts/test-suite.sh sets it), with an RS256
// JWKS made here and tokens minted with it: for tests where one user signs in from two browsers.
// (jwt.test.mjs keeps its own copy, which also mints forged tokens.)
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_URL } from './browser.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const GATEWAY = process.env.LOCAL_GATEWAY ?? join(ROOT, 'target', 'debug', 'local-gateway');
const ISSUER = 'https://issuer.test/chatterbox';
const AUDIENCE = 'chatterbox-recovery';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts the JWT gateway; resolves with `{ base, mint(sub), stop() }`. `mint(sub)` signs a token
 * for the user `sub`, valid 10 minutes.
 */
export async function startJwtGateway() {
  const kid = 'copy-test-key';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'chatterbox-jwt-copy-'));
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const gateway = spawn(GATEWAY, [], {
    env: {
      ...process.env,
      GATEWAY_ADDR: `127.0.0.1:${port}`,
      // The page comes from the gateway under test; this one answers it cross-origin.
      ALLOWED_ORIGINS: new URL(BASE_URL).origin,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_FILE: jwks,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  gateway.stderr.on('data', (d) => (stderr += d));
  const stop = () => {
    gateway.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/api/recovery/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300 || gateway.exitCode !== null) {
      stop();
      throw new Error(`the JWT gateway did not start:\n${stderr}`);
    }
    await sleep(100);
  }
  const mint = (sub) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url({ alg: 'RS256', typ: 'JWT', kid });
    const payload = b64url({ iss: ISSUER, aud: AUDIENCE, sub, iat: now, exp: now + 600 });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
    return `${header}.${payload}.${signature}`;
  };
  return { base, mint, stop };
}
