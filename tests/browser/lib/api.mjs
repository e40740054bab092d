// The recovery API from Node, the way the browser client uses it: for tests that need a backup
// no honest client would make (a hostile session document), or requests with and without a
// bearer token.
import { randomBytes } from 'node:crypto';
import { BASE_URL } from './browser.mjs';

export const SESSION_TYPE = 'application/vnd.chatterbox.session+json';

/** A fresh client secret, as the browser client makes one (128 bits, base64url). */
export const newClientSecret = () => randomBytes(16).toString('base64url');

/** One API request; resolves with `{ status, body }` (body parsed when it is JSON). */
export async function api(path, { method = 'GET', body, secret, bearer, base = BASE_URL } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (secret) headers['x-recovery-client'] = secret;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: res.status, body: parsed };
}

/** Uploads `bytes` as an object of `sessionId`; resolves with its key. */
export async function upload({ secret, bearer, base, sessionId, contentType, bytes }) {
  const created = await api('/api/recovery/uploads', {
    method: 'POST',
    secret,
    bearer,
    base,
    body: { session_id: sessionId, content_type: contentType, content_length: bytes.byteLength },
  });
  if (created.status !== 201) throw new Error(`POST /uploads: ${created.status} ${JSON.stringify(created.body)}`);
  const { key, upload_url: url, method, headers } = created.body;
  const put = await fetch(url, { method: method ?? 'PUT', headers, body: bytes });
  if (!put.ok) throw new Error(`upload to the bucket: ${put.status} ${await put.text()}`);
  return key;
}

/**
 * A whole-session backup made by hand: `audio` and the session document `doc` (an object, or a
 * string sent as is) uploaded, and a token issued for both. Resolves with the token.
 */
export async function backupByHand({ secret = newClientSecret(), bearer, base, sessionId, audio, doc, ttlSeconds = 600 }) {
  const audioKey = await upload({ secret, bearer, base, sessionId, contentType: 'audio/wav', bytes: audio });
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  const docKey = await upload({ secret, bearer, base, sessionId, contentType: SESSION_TYPE, bytes: Buffer.from(text) });
  const issued = await api('/api/recovery/token', {
    method: 'POST',
    secret,
    bearer,
    base,
    body: { key: audioKey, session_key: docKey, ttl_seconds: ttlSeconds, filename: `${sessionId}.wav` },
  });
  if (issued.status !== 201) throw new Error(`POST /token: ${issued.status} ${JSON.stringify(issued.body)}`);
  return issued.body.token;
}

/** Speech from the development endpoint: one WAV file. */
export async function speech(input, { base = BASE_URL, voice = 'default' } = {}) {
  const res = await fetch(`${base}/v1/audio/speech?chunk_delay_ms=0`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input, voice, response_format: 'wav' }),
  });
  if (!res.ok) throw new Error(`speech: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
