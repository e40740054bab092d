// client/README.md, "The recovery banner in the first paint": the start-up hint called first thing
// from an entry module (for an app that cannot put it in <head>), and the clean exit it counts
// from. Type-checked with the tarball app, never run.
declare const checked: boolean; // the recovery check has run
declare const crashed: unknown[]; // what it found, less what was restored or dismissed since

import { applyRecoveryHint, markCleanExit } from '@chatterbox/recovery-client/hint';

applyRecoveryHint(); // first thing: marks <html> when work may be waiting
addEventListener('pagehide', () => {
  if (checked && crashed.length === 0) markCleanExit(); // nothing left to recover: a clean exit
});
