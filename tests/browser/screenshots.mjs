// Takes the README's screenshots of the demo (banner, modal, auto-save indicator) into
// docs/screenshots/. Needs a running gateway:
//   RECOVERY_BASE_URL=http://127.0.0.1:3000 node tests/browser/screenshots.mjs
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newProfile } from './lib/browser.mjs';
import { setSettings, start, tid, ttsUrl } from './lib/demo.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const profile = newProfile('screenshots');
const query = { tts: ttsUrl({ chunk_delay_ms: 0 }) };

let { browser, log, page } = await start(profile, query);
await page.setViewport({ width: 1280, height: 760 });
await page.fill(tid('tts-text'), 'Chapter one. The lighthouse keeper counted the ships. Seven, she wrote, then crossed it out.');
await setSettings(page, { voice: 'olivia', exaggeration: 0.8, seed: 7 });
const after = log.seq;
await page.click(tid('tts-generate'));
await log.waitFor('generation', (d) => d.phase === 'stored', { after });
await page.type(tid('tts-text'), ' The fog came in.', { delay: 20, end: true });
await log.waitFor('indicator', (d) => d.state === 'saved', { after: log.seq });
await page.screenshot(join(out, 'editor-and-indicator.png'));
await page.screenshot(join(out, 'indicator.png'), 'header.top');
await browser.kill();

({ browser, log, page } = await start(profile, query));
await page.setViewport({ width: 1280, height: 760 });
await page.screenshot(join(out, 'banner.png'));
await page.click(tid('recovery-open'));
await page.screenshot(join(out, 'modal.png'));
await browser.kill();
console.log(`screenshots in ${out}`);
