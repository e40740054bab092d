// The page's recovery store: opened once (StrictMode and hot updates included), shared by the
// Zustand store and by <RecoveryProvider>. `?recovery=off` runs the page without it (to compare
// generation times with and without the client). The server copy is on when the page's switch
// says so (copySwitch.ts; the switch reloads the page to change it).
import type { RecoveryStore } from '@chatterbox/recovery-client';
import { openSharedRecoveryStore } from '@chatterbox/recovery-client/react';
import { serverCopyOn } from './copySwitch';

const off = new URLSearchParams(location.search).get('recovery') === 'off';

export const recoveryStore: Promise<RecoveryStore> = off
  ? Promise.reject(new Error('recovery is off on this page (?recovery=off)'))
  : openSharedRecoveryStore({ apiBaseUrl: location.origin, serverCopy: serverCopyOn() });
recoveryStore.catch(() => {}); // reported through the slice and the provider
