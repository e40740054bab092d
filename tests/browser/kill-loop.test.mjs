// The kill-and-recover loop (lib/kill-loop.mjs): everything committed before each of the SIGKILLs
// comes back. It also prints the loss window (text typed at least 250 ms before each kill that
// came back) and any miss; kill-loop-typed.test.mjs asserts that one too.
import { test } from 'node:test';
import { BROWSER } from './lib/browser.mjs';
import { RUNS, killLoop } from './lib/kill-loop.mjs';

test(`kill-and-recover loop: ${RUNS} SIGKILLs, everything committed before each comes back; loss window printed (${BROWSER})`, () =>
  killLoop({ strictTyped: false }));
