// Purge of a copied session (issue 17): dismissing it removes the copy from the owner's list and
// from object storage, and its recovery link then answers 410 Gone, which the page opened from
// the link says in words. (It failed with 404 until revoke-token purged a copy's own token
// instead of deleting it, d5406a3.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api } from './lib/api.mjs';
import { BROWSER, newProfile } from './lib/browser.mjs';
import { clientSecret, eventually, listCopies, startAt, startTimed, typeAndCommit, waitIndicator, withCopy } from './lib/copy.mjs';
import { tid, ttsUrl } from './lib/demo.mjs';

const FAST = { tts: ttsUrl({ chunk_delay_ms: 0 }) };

test(`dismissing a copied session purges its copy: the link answers 410 and the page says the copy is gone (${BROWSER})`, async () => {
  const a = await withCopy('purge');
  let link;
  let id;
  try {
    const typed = await typeAndCommit(a.page, a.log, 'About to be thrown away.');
    id = typed.id;
    await waitIndicator(a.log, 'backed-up', { after: typed.committed.seq });
    const seq = a.log.seq;
    await a.page.click(tid('copy-link'));
    link = (await a.log.waitFor('recovery-link', (d) => d.id === id, { after: seq })).detail.link;
    assert.ok(link, 'a link');
    a.secret = await clientSecret(a.page);
  } finally {
    await a.browser.kill();
  }
  const token = link.split('#recover=')[1];
  const redeem = () => api(`/api/recovery/audio/${token}`).then((r) => r.status);
  assert.equal(await redeem(), 200, 'the link works before the purge');

  const again = await startTimed(a.profile, FAST);
  try {
    assert.ok(again.ready.crashed.includes(id), 'the killed session is offered');
    await again.page.click(tid('recovery-open'));
    const item = `${tid('recovery-item')}[data-session-id="${id}"]`;
    await again.page.click(`${item} ${tid('recovery-dismiss')}`);
    await again.log.waitFor('dismissed', (d) => d.id === id);
  } finally {
    await again.browser.kill();
  }
  // Dismissing is for good: the copy leaves the owner's list and its link answers 410 Gone.
  const secret = a.secret;
  assert.equal(await eventually(async () => !(await listCopies({ secret })).has(id), { timeout: 15_000 }), true, 'the copy left the list');
  assert.equal(await api(`/api/recovery/sessions/${id}`, { secret }).then((r) => r.status), 404, 'no copy to restore');
  assert.equal(await eventually(async () => ((await redeem()) === 410 ? 410 : null), { timeout: 15_000 }) ?? await redeem(), 410, 'the link answers 410 Gone');

  const b = await startAt(newProfile('purge-b'), link);
  try {
    const got = (await b.log.waitFor('recovered', (d) => d.via === 'link')).detail;
    assert.ok(['not-found', 'expired'].includes(got.audio), JSON.stringify(got));
    assert.match(await b.page.text(tid('server-message')), /deleted|expired|nothing/i);
    assert.equal(await b.page.value(tid('tts-text')), '', 'nothing restored');
  } finally {
    await b.browser.kill();
  }
});
