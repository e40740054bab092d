// The kill-and-recover loop (lib/kill-loop.mjs): everything committed before each of the SIGKILLs
// comes back, and everything typed at least 250 ms before each kill (the loss window), whatever
// the page reported. Prints both figures.
import { test } from 'node:test';
import { BROWSER } from './lib/browser.mjs';
import { RUNS, TYPED_MS, killLoop } from './lib/kill-loop.mjs';

test(`kill-and-recover loop: ${RUNS} SIGKILLs, everything committed and everything typed ${TYPED_MS} ms before each comes back (${BROWSER})`, () =>
  killLoop());
