// Serves client/ over HTTP on loopback and opens test-js/esm-page.html in
// headless Chromium: the built package must import as a plain ES module
// (no bundler) and work. The page posts its verdict back; exits 1 unless
// it is ESM-OK.
import { checkPage } from './page-check.mjs';

const [result] = await checkPage('esm-page.html', ['chromium'], { fail: 'ESM-FAIL', seconds: 60 });
console.log(result);
process.exit(result.startsWith('ESM-OK') ? 0 : 1);
