// client/README.md, "Several users on one browser profile": a database per signed-in user, and
// sign-out that leaves nothing of the user's work on the device. Type-checked with the tarball
// app, never run.
declare const session: { userId: string };

import { clearRecoveryData, openRecoveryStore } from '@chatterbox/recovery-client';
import { applyRecoveryHint } from '@chatterbox/recovery-client/hint';

applyRecoveryHint(null, { user: session.userId }); // this user's hint, before the first paint
const recovery = await openRecoveryStore({ user: session.userId });

export async function signOut() {
  await recovery.close(); // first: clearRecoveryData closes nothing, and refuses while it is open
  await clearRecoveryData({ user: session.userId }); // database, hint and client secret mirror
}
