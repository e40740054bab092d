// Serves client/ over HTTP on loopback and opens test-js/users-page.html (two users on one browser
// profile, and clearRecoveryData) in headless Chromium and then headless Firefox ESR, each with a
// fresh profile. The page posts its verdict back; exits 1 unless every browser says USERS-OK.
// USERS_PAGE_BROWSERS picks the browsers ("chromium firefox").
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

let report = () => {};
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (req.method === 'POST' && path === '/__result') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { res.writeHead(204).end(); report(body); });
    return;
  }
  if (path.includes('..')) return res.writeHead(403).end();
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/test-js/users-page.html`;

const launchers = {
  chromium: (profile) => [
    process.env.CHROMIUM ?? '/usr/bin/chromium',
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, url],
  ],
  firefox: (profile) => {
    // As webdriver.json: no first-run pages or updates, and storage prompts answered.
    writeFileSync(join(profile, 'user.js'), [
      'user_pref("app.update.disabledForTesting", true);',
      'user_pref("browser.shell.checkDefaultBrowser", false);',
      'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
      'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
      'user_pref("browser.startup.homepage_override.mstone", "ignore");',
      'user_pref("dom.storageManager.prompt.testing", true);',
      'user_pref("dom.storageManager.prompt.testing.allow", true);',
    ].join('\n'));
    return [process.env.FIREFOX ?? '/usr/bin/firefox-esr', ['--headless', '--no-remote', '--profile', profile, url]];
  },
};

async function run(browser) {
  const profile = mkdtempSync(join(tmpdir(), `users-page-${browser}-`));
  const [binary, args] = launchers[browser](profile);
  const verdict = new Promise((resolve) => { report = resolve; });
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) =>
    child.on('close', (code) => resolve(`USERS-FAIL ${browser} exited (${code}) before the page reported\n${stderr.slice(-2000)}`)));
  const timeout = new Promise((resolve) => setTimeout(() => resolve(`USERS-FAIL ${browser}: no report within 90 s`), 90_000));
  const result = await Promise.race([verdict, exited, timeout]);
  child.kill('SIGKILL');
  await exited;
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // A leftover temp profile is not a test failure.
  }
  return result;
}

let ok = true;
for (const browser of (process.env.USERS_PAGE_BROWSERS ?? 'chromium firefox').split(/\s+/).filter(Boolean)) {
  const result = await run(browser);
  console.log(`${browser}: ${result}`);
  ok &&= /(^|\n)USERS-OK/.test(result);
}
server.close();
process.exit(ok ? 0 : 1);
