// A second local gateway in JWT mode over the same emulators, table and bucket as the gateway
// under test (its environment is this process's, as scripts/test-suite.sh sets it), with an RS256
// JWKS made here and tokens minted with it: for tests where one user signs in from two browsers
// (copy.test.mjs), and for jwt.test.mjs, which also mints forged tokens with `keyPair`/`mintJwt`.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_URL } from './browser.mjs';
import { startGateway } from './gateway.mjs';

const ISSUER = 'https://issuer.test/chatterbox';
const AUDIENCE = 'chatterbox-recovery';
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** An RS256 key pair and its public JWKS entry. */
export function keyPair(kid) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A signed JWT: RS256 over `header.payload`, as any identity provider makes one. */
export function mintJwt(key, claims = {}, { kid = key.kid } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'RS256', typ: 'JWT', kid });
  const payload = b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 600, ...claims });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/**
 * Starts the JWT gateway with `key` (a fresh one by default) in its JWKS; resolves with
 * `{ base, key, mint(sub), stop() }`. `mint(sub)` signs a token for the user `sub`, valid 10
 * minutes.
 */
export async function startJwtGateway({ key = keyPair('copy-test-key') } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'chatterbox-jwt-'));
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [key.jwk] }));
  const port = await freePort();
  const { base, stop } = await startGateway({
    port,
    env: {
      // The page comes from the gateway under test, whose origin the bucket's CORS rules allow
      // (presigned uploads go straight to the bucket); this gateway answers it cross-origin.
      ALLOWED_ORIGINS: new URL(BASE_URL).origin,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_FILE: jwks,
    },
    what: 'the JWT gateway',
    onStop: () => rmSync(dir, { recursive: true, force: true }),
  });
  return { base, key, mint: (sub) => mintJwt(key, { sub }), stop };
}
