// Twin of client/demo/tts.js: the example must stand alone as an app a developer copies; keep the two in step.
// Talking to an OpenAI-compatible speech endpoint (`POST /v1/audio/speech`, as Chatterbox servers
// serve it), and the little WAV handling the page needs.

/** Longest text sent in one request; Chatterbox servers do best with a sentence or two. */
const MAX_SEGMENT = 300;

/**
 * Splits text into the parts generated one request each: sentences, with very long ones cut at
 * a space. The same text always gives the same parts, so a take can resume at its first
 * missing part.
 */
export function splitText(text: string): string[] {
  const sentences = text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?…;:])\s+/u)
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
  const parts: string[] = [];
  for (const sentence of sentences) {
    let rest = sentence;
    while (rest.length > MAX_SEGMENT) {
      let cut = rest.lastIndexOf(' ', MAX_SEGMENT);
      if (cut < MAX_SEGMENT / 2) cut = MAX_SEGMENT;
      parts.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (rest) parts.push(rest);
  }
  return parts;
}

interface Wav {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  dataLength: number;
  declaredLength: number;
}

/** Format and data of a PCM WAV file; sizes past the end are cut to what is there. */
export function parseWav(bytes: ArrayBuffer | Uint8Array): Wav | null {
  const view = bytes instanceof Uint8Array
    ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new DataView(bytes);
  const tag = (at: number) => String.fromCharCode(...new Uint8Array(view.buffer, view.byteOffset + at, 4));
  if (view.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let at = 12;
  let format: Pick<Wav, 'channels' | 'sampleRate' | 'bitsPerSample'> | null = null;
  while (at + 8 <= view.byteLength) {
    const id = tag(at);
    const len = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      format = {
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) return null;
      const end = Math.min(body + len, view.byteLength);
      return { ...format, dataOffset: body, dataLength: end - body, declaredLength: len };
    }
    at = body + len + (len & 1);
  }
  return null;
}

/** Seconds of audio in a WAV file, or 0. */
export function wavDuration(bytes: ArrayBuffer): number {
  const wav = parseWav(bytes);
  if (!wav) return 0;
  const frame = wav.channels * Math.ceil(wav.bitsPerSample / 8);
  return frame && wav.sampleRate ? wav.dataLength / frame / wav.sampleRate : 0;
}

/** One WAV file of several (same format) played back to back. */
export function concatWav(files: ArrayBuffer[]): Uint8Array<ArrayBuffer> {
  const parsed = files.map((bytes) => ({ bytes: new Uint8Array(bytes), wav: parseWav(bytes) }));
  const first = parsed.find((p) => p.wav)?.wav;
  if (!first) return new Uint8Array(0);
  const same = parsed.flatMap((p) =>
    p.wav && p.wav.sampleRate === first.sampleRate && p.wav.channels === first.channels &&
      p.wav.bitsPerSample === first.bitsPerSample
      ? [{ bytes: p.bytes, wav: p.wav }]
      : []);
  const total = same.reduce((n, p) => n + p.wav.dataLength, 0);
  const out = new Uint8Array(44 + total);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  const { channels, sampleRate, bitsPerSample } = first;
  const align = channels * Math.ceil(bitsPerSample / 8);
  put(0, 'RIFF'); view.setUint32(4, 36 + total, true); put(8, 'WAVE');
  put(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
  view.setUint16(22, channels, true); view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * align, true); view.setUint16(32, align, true);
  view.setUint16(34, bitsPerSample, true); put(36, 'data'); view.setUint32(40, total, true);
  let at = 44;
  for (const p of same) {
    out.set(p.bytes.subarray(p.wav.dataOffset, p.wav.dataOffset + p.wav.dataLength), at);
    at += p.wav.dataLength;
  }
  return out;
}

/** Hex SHA-256 of some bytes. */
export async function sha256(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What a failed request says, from an RFC 9457 problem or OpenAI's `{error: {message}}`. */
async function failure(response: Response): Promise<string> {
  let detail = '';
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null) {
      const b = body as { detail?: unknown; title?: unknown; message?: unknown; error?: { message?: unknown } };
      const said = b.detail ?? b.title ?? b.error?.message ?? b.message;
      if (typeof said === 'string') detail = said;
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return `the TTS endpoint answered ${response.status}${detail ? `: ${detail}` : ''}`;
}

/** The request body of `/v1/audio/speech`, with Chatterbox's extra parameters. */
export interface SpeechRequest {
  model: string;
  input: string;
  voice: string;
  response_format: 'wav';
  exaggeration: number;
  cfg_weight: number;
  temperature: number;
  seed: number;
}

interface SpeakOptions {
  signal?: AbortSignal;
  onProgress?: (received: number, expected: number) => void;
}

/**
 * Generates one part: posts the request and reads the WAV as it streams in. Resolves with the
 * whole file; rejects if the request fails, the stream breaks off, or what arrived is not a
 * complete WAV file.
 */
export async function speak(url: string, request: SpeechRequest, { signal, onProgress }: SpeakOptions = {}): Promise<ArrayBuffer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'audio/wav' },
    body: JSON.stringify(request),
    signal,
  });
  if (!response.ok) throw new Error(await failure(response));
  if (!response.body) throw new Error('the TTS endpoint sent no body');
  const reader = response.body.getReader();
  const pieces: Uint8Array[] = [];
  let received = 0;
  let expected = Number(response.headers.get('content-length')) || 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pieces.push(value);
    received += value.byteLength;
    if (!expected && received >= 44) {
      const wav = parseWav(concat(pieces));
      // Streaming servers may not know the length (0 or 0xFFFFFFFF); then there is no total.
      if (wav && wav.declaredLength > 0 && wav.declaredLength < 0x7fff0000) {
        expected = wav.dataOffset + wav.declaredLength;
      }
    }
    onProgress?.(received, expected);
  }
  const bytes = concat(pieces);
  const wav = parseWav(bytes);
  if (!wav || wav.dataLength === 0) throw new Error('the TTS endpoint sent no WAV audio');
  if (wav.declaredLength < 0x7fff0000 && wav.dataLength < wav.declaredLength) {
    throw new Error('the audio stream stopped before the end');
  }
  return bytes.slice().buffer;
}

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
