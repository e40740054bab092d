// A new app that installed @chatterbox/recovery-client from its tarball: every subpath export,
// typed, built by Vite. What the README's "Add recovery to a React + Zustand app" shows.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { create } from 'zustand';
import { peekSessions, type SessionSummary } from '@chatterbox/recovery-client';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  RecoveryProvider,
  openSharedRecoveryStore,
  useSaveStatus,
} from '@chatterbox/recovery-client/react';
import { createRecoverySlice, recovery, type RecoverySlice } from '@chatterbox/recovery-client/zustand';
import '@chatterbox/recovery-client/react.css';

interface Params { speed: number }
interface Editor { id: string; text: string; speed: number; setText: (text: string) => void }
type State = Editor & RecoverySlice<Params>;

const recoveryStore = openSharedRecoveryStore({ apiBaseUrl: location.origin });

const useEditor = create<State>()(
  recovery(
    (set, get, api) => ({
      id: crypto.randomUUID(), text: '', speed: 1,
      setText: (text) => set({ text }),
      ...createRecoverySlice<State, Params>()(set, get, api),
    }),
    {
      store: recoveryStore,
      sessionId: (s) => s.id,
      select: (s) => ({ text: s.text, params: { speed: s.speed } }),
      merge: (session) => ({ id: session.id, text: session.text, speed: session.params.speed }),
    },
  ),
);

function App() {
  const { text, setText, recovery: r } = useEditor();
  const [open, setOpen] = useState(false);
  const { status } = useSaveStatus();
  const first: SessionSummary | undefined = r.crashedSessions[0] as SessionSummary | undefined;
  return (
    <>
      <AutoSaveIndicator />
      <RecoveryBanner sessions={r.crashedSessions} onOpen={() => setOpen(true)} />
      <RecoveryModal open={open} onClose={() => setOpen(false)} sessions={r.crashedSessions} onRestore={r.restore} onDismiss={r.dismiss} />
      <textarea value={text} onChange={(e) => setText(e.target.value)} aria-label={`${status} ${first?.id ?? ''}`} />
      <p>{peekSessions().length} sessions hinted</p>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RecoveryProvider store={recoveryStore}>
      <App />
    </RecoveryProvider>
  </StrictMode>,
);
