// The tarball's package in a webpack 5 production build with no configuration for the wasm:
// webpack must find `new URL('…_bg.wasm', import.meta.url)`, emit the file, and the page (served
// on loopback, in Chromium) must open a store and save and restore a session with it.
// Usage: node webpack.check.mjs   (in the app, after the tarball is installed; CHROMIUM overrides)
import { createServer } from 'node:http';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, 'dist-webpack');
rmSync(dist, { recursive: true, force: true });

const stats = await new Promise((resolve, reject) =>
  webpack(
    { mode: 'production', context: here, entry: './webpack-entry.js', output: { path: dist, clean: true } },
    (error, result) => (error ? reject(error) : resolve(result)),
  ));
if (stats.hasErrors()) throw new Error(stats.toString('errors-only'));
const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
if (wasm.length !== 1) throw new Error(`webpack emitted ${wasm.length} .wasm files: ${readdirSync(dist).join(', ')}`);
writeFileSync(join(dist, 'index.html'), '<!doctype html><meta charset="utf-8"><p id="out">running</p><script src="main.js"></script>\n');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(dist, path.endsWith('/') ? `${path}index.html` : path);
  try {
    if (!file.startsWith(dist) || !statSync(file).isFile()) throw new Error('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
let browser;
let result;
try {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('#out[data-result]', { timeout: 30_000 });
  result = await page.getAttribute('#out', 'data-result');
} finally {
  await browser?.close();
  server.close();
}
console.log(`webpack ${webpack.version}: ${wasm[0]} emitted; the page says ${result}`);
if (result !== 'ok') process.exit(1);
