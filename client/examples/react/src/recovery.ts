// The page's recovery store: opened once (StrictMode and hot updates included), shared by the
// Zustand store below and by <RecoveryProvider>.
import { openSharedRecoveryStore } from '@chatterbox/recovery-client/react';

export const recoveryStore = openSharedRecoveryStore({ apiBaseUrl: location.origin });
