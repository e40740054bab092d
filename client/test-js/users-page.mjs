// Serves client/ over HTTP on loopback and opens test-js/users-page.html (two users on one browser
// profile, and clearRecoveryData) in headless Chromium and then headless Firefox ESR, each with a
// fresh profile. The page posts its verdict back; exits 1 unless every browser says USERS-OK.
// USERS_PAGE_BROWSERS picks the browsers ("chromium firefox").
import { checkPage } from './page-check.mjs';

const browsers = (process.env.USERS_PAGE_BROWSERS ?? 'chromium firefox').split(/\s+/).filter(Boolean);
const results = await checkPage('users-page.html', browsers, { fail: 'USERS-FAIL', seconds: 90 });
let ok = true;
browsers.forEach((browser, i) => {
  console.log(`${browser}: ${results[i]}`);
  ok &&= /(^|\n)USERS-OK/.test(results[i]);
});
process.exit(ok ? 0 : 1);
