// client/README.md, "Storage": a first look at start-up from the localStorage hint, before the
// wasm loads. Type-checked with the tarball app, never run.
declare const banner: { show(text: string): void };

import { peekSessions, openRecoveryStore } from '@chatterbox/recovery-client';

if (peekSessions().length > 0) banner.show('Looking for unsaved work…'); // [{ id, updatedAt }], newest first
const recovery = await openRecoveryStore();
const crashed = await recovery.detect();
export { crashed };
