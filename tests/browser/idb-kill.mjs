// Does an IndexedDB transaction whose `complete` event fired survive a SIGKILL of the browser?
// The kill tests assume it does; this measures it in the browser E2E_BROWSER names, with no
// gateway: a local page commits one record per readwrite transaction, as fast as it can, and
// reports each `complete` to Node; the browser's process group is killed at a random moment and
// started again on the same profile, which then counts what is there.
//   E2E_BROWSER=firefox node tests/browser/idb-kill.mjs [kills]
// IDB_DURABILITY (relaxed or strict) sets the transactions' durability hint; unset, the browser's
// default (relaxed in both).
import { createServer } from 'node:http';
import { BROWSER, Browser, newProfile } from './lib/browser.mjs';

const KILLS = Number(process.argv[2] ?? 20);
const DURABILITY = process.env.IDB_DURABILITY ?? null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const page = `<!doctype html><title>idb</title><script>
const open = () => new Promise((resolve, reject) => {
  const req = indexedDB.open('probe', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('records');
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
window.countRecords = async () => {
  const db = await open();
  return new Promise((resolve) => {
    const keys = db.transaction('records').objectStore('records').getAllKeys();
    keys.onsuccess = () => resolve(keys.result);
  });
};
window.writeForever = async (run) => {
  const db = await open();
  for (let i = 0; ; i++) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('records', 'readwrite', ${JSON.stringify(DURABILITY ? { durability: DURABILITY } : {})});
      tx.objectStore('records').put({ text: 'x'.repeat(2000), i }, run + ':' + i);
      tx.oncomplete = () => { window.__committed(run + ':' + i); resolve(); };
      tx.onerror = () => reject(tx.error);
    });
  }
};
</script>`;

const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const profile = newProfile('idb-kill');
let reported = [];
let missing = 0;
let checked = 0;
for (let run = 0; run <= KILLS; run++) {
  const browser = await Browser.launch(profile);
  const committed = [];
  await browser.exposeFunction('__committed', (_page, key) => committed.push(key));
  const tab = await browser.newPage();
  await tab.goto(url);
  // What was reported committed before the last kill must all be here.
  const present = new Set(await tab.evaluate(() => window.countRecords()));
  const lost = reported.filter((k) => !present.has(k));
  checked += reported.length;
  missing += lost.length;
  if (lost.length) console.log(`run ${run}: ${lost.length} of ${reported.length} reported commits lost (${present.size} records in the database), e.g. ${lost.slice(-3)}`);
  if (run === KILLS) {
    await browser.kill();
    break;
  }
  tab.evaluate((run) => window.writeForever(run), String(run)).catch(() => {});
  await sleep(300 + Math.random() * 1200);
  reported = [...committed];
  await browser.kill();
}
server.close();
console.log(`${BROWSER} (durability ${DURABILITY ?? 'default'}): ${KILLS} SIGKILLs while committing; ${checked} commits reported before a kill, ` +
  `${checked - missing} present after the restart, ${missing} lost`);
process.exit(missing ? 1 : 0);
