// A stack behind a JWT authorizer: a second local gateway started here in JWT mode (an RS256 JWKS
// made with node:crypto, tokens minted with it), and the browser client backing a session up and
// recovering it through that gateway with a bearer token the page supplies through the client's
// `authorization` option. A missing or bad token is API Gateway's 401.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BASE_URL, BROWSER, Browser, newProfile } from './lib/browser.mjs';
import { api, speech } from './lib/api.mjs';
import { keyPair, mintJwt as mint, startJwtGateway } from './lib/jwt-gateway.mjs';

const key = keyPair('test-key-1');
/** Not in the JWKS, but claiming the same key id. */
const impostor = keyPair('test-key-1');
let gateway;
let base;

before(async () => {
  gateway = await startJwtGateway({ key });
  base = gateway.base;
});

after(() => gateway?.stop());

test('JWT mode: a missing, forged, expired or foreign token is 401 {"message":"Unauthorized"}; health stays open', async () => {
  const body = { session_id: 'jwt-probe', content_type: 'audio/wav', content_length: 100 };
  const now = Math.floor(Date.now() / 1000);
  const cases = {
    'no token': undefined,
    'not a JWT': 'not-a-jwt',
    'signed by another key': mint(impostor),
    'expired': mint(key, { exp: now - 120, iat: now - 720 }),
    'not yet valid': mint(key, { nbf: now + 600 }),
    'another audience': mint(key, { aud: 'someone-else' }),
    'another issuer': mint(key, { iss: 'https://evil.test/' }),
    'unknown key id': mint(key, {}, { kid: 'nobody' }),
  };
  for (const [name, bearer] of Object.entries(cases)) {
    const res = await api('/api/recovery/uploads', { method: 'POST', base, bearer, body });
    assert.equal(res.status, 401, `${name}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(res.body, { message: 'Unauthorized' }, name);
  }
  const good = await api('/api/recovery/uploads', { method: 'POST', base, bearer: mint(key), body });
  assert.equal(good.status, 201, JSON.stringify(good.body));
  assert.equal((await api('/api/recovery/health', { base })).status, 200);
});

/**
 * The demo page without its own store (`?recovery=off`), and in it a store of the client opened
 * the way an app behind a JWT authorizer opens it: the API is the JWT gateway, and
 * `authorization` reads the page's current token for every request.
 */
async function pageWithStore(profileLabel, bearer) {
  const browser = await Browser.launch(newProfile(profileLabel));
  const page = await browser.newPage();
  await page.goto(`${BASE_URL}/?recovery=off`);
  await page.waitForSelector('html[data-ready="true"]');
  await page.evaluate(async ({ bearer, api }) => {
    window.__bearer = bearer;
    window.__authCalls = 0;
    const { openRecoveryStore } = await import('/client/js/index.js');
    window.__store = await openRecoveryStore({
      apiBaseUrl: api,
      authorization: async () => {
        window.__authCalls++;
        return window.__bearer ? `Bearer ${window.__bearer}` : null;
      },
    });
  }, { bearer, api: base });
  return { browser, page };
}

test(`JWT mode: backup and recovery by token through the gateway with the page's bearer token; without it, 401 (${BROWSER})`, async () => {
  const parts = [await speech('Behind an authorizer.', { base }), await speech('Still recoverable.', { base })];
  const session = {
    id: `jwt-${Date.now().toString(36)}`,
    text: 'Behind an authorizer. Still recoverable.',
    voiceId: 'emily',
    params: { exaggeration: 0.7, cfgWeight: 0.4, temperature: 1.1, seed: 31337 },
  };
  const a = await pageWithStore('jwt-a', mint(key, { sub: 'writer-7' }));
  const backup = await a.page.evaluate(async ({ session, parts }) => {
    const store = window.__store;
    await store.save(session);
    for (const [index, bytes] of parts.entries()) {
      await store.appendChunk(session.id, index, new Uint8Array(bytes).buffer, 'audio/wav');
    }
    // A bad token first: refused by the authorizer, nothing backed up.
    const good = window.__bearer;
    window.__bearer = `${good.slice(0, -4)}AAAA`;
    let refused = null;
    try {
      await store.backup(session.id, {});
    } catch (e) {
      refused = String(e?.message ?? e);
    }
    window.__bearer = good;
    const result = await store.backup(session.id, {});
    return { refused, token: result.token, calls: window.__authCalls };
  }, { session, parts: parts.map((p) => [...p]) });
  assert.ok(backup.refused, 'a backup with a bad token fails');
  assert.match(backup.refused, /401|[Uu]nauthori[sz]ed/, backup.refused);
  assert.ok(backup.token, 'a backup with the good token gives a recovery token');
  assert.ok(backup.calls >= 2, `the authorization provider was asked per request (${backup.calls} calls)`);
  await a.browser.kill();

  // A fresh profile, signed in as the same user: the whole session comes back.
  const b = await pageWithStore('jwt-b', mint(key, { sub: 'writer-7' }));
  const recovered = await b.page.evaluate(async (token) => {
    const digest = async (buf) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))]
      .map((x) => x.toString(16).padStart(2, '0')).join('');
    const r = await window.__store.recover(null, { token });
    const s = r.session;
    return {
      audio: r.audio,
      text: s?.text,
      voiceId: s?.voiceId,
      params: s?.params,
      parts: s ? await Promise.all(s.chunks.map(async (c) => ({ index: c.index, sha256: await digest(c.bytes) }))) : [],
    };
  }, backup.token);
  assert.equal(recovered.audio, 'restored', JSON.stringify(recovered));
  assert.equal(recovered.text, session.text);
  assert.equal(recovered.voiceId, session.voiceId);
  assert.deepEqual(recovered.params, session.params);
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  assert.deepEqual(recovered.parts, parts.map((p, index) => ({ index, sha256: sha(p) })));

  // Without a token, the same recovery is refused.
  const refused = await b.page.evaluate(async (token) => {
    window.__bearer = null;
    try {
      const r = await window.__store.recover(null, { token });
      return `answered ${r.audio}`;
    } catch (e) {
      return String(e?.message ?? e);
    }
  }, backup.token);
  assert.match(refused, /401|[Uu]nauthori[sz]ed/, refused);
  await b.browser.kill();
});
