import { recoveryHintScript } from '@chatterbox/recovery-client/hint';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig, type Plugin } from 'vite';

/** A WAV of `samples` 16-bit mono samples of silence at 24 kHz: 44 bytes of header, then data. */
function silence(samples: number): Uint8Array {
  const bytes = new Uint8Array(44 + 2 * samples);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + 2 * samples, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, 24_000, true);
  view.setUint32(28, 48_000, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, 2 * samples, true);
  return bytes;
}

/**
 * Under `vite` dev only, a stand-in for the app's speech endpoint (`POST /v1/audio/speech`, as a
 * Chatterbox server's): a short silent WAV per request, so vite-dev.check.mjs can generate a take.
 */
function speechStub(): Plugin {
  return {
    name: 'speech-stub',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/v1/audio/speech', (req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'audio/wav');
          res.end(silence(2400));
        });
      });
    },
  };
}

// The start-up hint as a classic script at the top of <head>: the recovery banner's skeleton in
// index.html is then in the first paint when work may be waiting.
const recoveryHint: Plugin = {
  name: 'recovery-hint',
  transformIndexHtml: () => [{ tag: 'script', children: recoveryHintScript(), injectTo: 'head-prepend' }],
};

// index.html: the app as a new user writes it. host-css.html: the components under a host's
// Tailwind v4 preflight and dark theme (host-css.check.mjs).
export default defineConfig({
  plugins: [recoveryHint, tailwindcss(), speechStub()],
  build: { rollupOptions: { input: ['index.html', 'host-css.html'] } },
});
