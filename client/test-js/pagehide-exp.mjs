// Serves client/ over HTTP on loopback and opens test-js/pagehide-exp.html in
// headless Chromium: the built package must import as a plain ES module
// (no bundler) and work. The page posts its verdict back; exits 1 unless
// it is ESM-OK.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

let report;
const verdict = new Promise((resolve) => { report = resolve; });

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
const url = `http://127.0.0.1:${server.address().port}/test-js/pagehide-exp.html`;

const profile = mkdtempSync(join(tmpdir(), 'esm-page-'));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const args = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  `--user-data-dir=${profile}`, url,
];
const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => { stderr += d; });
const exited = new Promise((resolve) => child.on('close', (code) => resolve(`chromium exited (${code}) before the page reported\n${stderr.slice(-2000)}`)));
const timeout = new Promise((resolve) => setTimeout(() => resolve('ESM-FAIL: no report within 60 s'), 60_000));

const result = await Promise.race([verdict, exited, timeout]);
child.kill('SIGKILL');
await exited;
server.close();
try {
  rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
} catch {
  // A leftover temp profile is not a test failure.
}
console.log(result);
process.exit(result.startsWith('ESM-OK') ? 0 : 1);
