// What esm-page.mjs and users-page.mjs share: serve client/ over HTTP on loopback, open one of
// test-js/'s pages in a headless browser with a fresh profile, and wait for the verdict the page
// posts back to /__result (or for the browser to exit, or for the time to run out).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

const launchers = {
  chromium: (profile, url) => [
    process.env.CHROMIUM ?? '/usr/bin/chromium',
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, url],
  ],
  firefox: (profile, url) => {
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

/**
 * Opens test-js/<page> in each browser in turn ("chromium", "firefox") and resolves with what each
 * reported, in order: the page's verdict, or `<fail> <browser> …` when it exited first or said
 * nothing within `seconds`.
 */
export async function checkPage(page, browsers, { fail, seconds }) {
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
  const url = `http://127.0.0.1:${server.address().port}/test-js/${page}`;
  const results = [];
  for (const browser of browsers) {
    const profile = mkdtempSync(join(tmpdir(), `${page.replace(/\W/g, '-')}-${browser}-`));
    const [binary, args] = launchers[browser](profile, url);
    const verdict = new Promise((resolve) => { report = resolve; });
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) =>
      child.on('close', (code) => resolve(`${fail} ${browser} exited (${code}) before the page reported\n${stderr.slice(-2000)}`)));
    const timeout = new Promise((resolve) => setTimeout(() => resolve(`${fail} ${browser}: no report within ${seconds} s`), seconds * 1000));
    results.push(await Promise.race([verdict, exited, timeout]));
    child.kill('SIGKILL');
    await exited;
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A leftover temp profile is not a test failure.
    }
  }
  server.close();
  return results;
}
