// A second origin for cross-origin tests: a tiny static server on loopback that plays a web app
// deployed apart from the recovery API. It serves its own copy of the browser client
// (client/js/ and client/pkg/, as an app bundles the package) and one page that loads it, so that
// nothing but the API calls and the presigned transfers cross to the gateway's origin.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'client');
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

// The app's page: the client, loaded from this origin, on `window.recoveryClient` once ready.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>an app on another origin</title>
<script type="module">
  import * as client from '/client/js/index.js';
  window.recoveryClient = client;
  document.documentElement.dataset.ready = 'true';
</script>`;

/**
 * Serves the app on `http://127.0.0.1:<port>` (0: any free port). Resolves with its `origin` and
 * `close()`; rejects when the port is taken.
 */
export async function serveApp(port = 0) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://app').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
      res.end(PAGE);
      return;
    }
    const rel = normalize(path).replace(/^[/\\]+/, '');
    const file = join(CLIENT_DIR, rel.replace(/^client[/\\]/, ''));
    const allowed = ['js', 'pkg'].some((d) => file.startsWith(join(CLIENT_DIR, d) + sep));
    if (!rel.startsWith('client') || !allowed) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
