// A new app that installed @chatterbox/recovery-client from its tarball: every subpath export,
// typed, built by Vite. The README's "Add recovery to a React + Zustand app" is cut from here
// (check-react.sh checks that each of its lines is in this file).
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { create, type StateCreator } from 'zustand';
import { peekSessions } from '@chatterbox/recovery-client';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  RecoveryProvider,
  openSharedRecoveryStore,
  useSaveState,
} from '@chatterbox/recovery-client/react';
import { createRecoverySlice, recovery, type RecoverySlice } from '@chatterbox/recovery-client/zustand';
import '@chatterbox/recovery-client/react.css';

interface Params {
  exaggeration: number;
  seed: number;
}
interface Editor {
  id: string;
  text: string;
  voice: string;
  params: Params;
  setText: (text: string) => void;
}
type State = Editor & RecoverySlice<Params>;

const editor: StateCreator<State, [['chatterbox/recovery', unknown]], [], Editor> = (set) => ({
  id: crypto.randomUUID(),
  text: '',
  voice: 'default',
  params: { exaggeration: 0.5, seed: 0 },
  setText: (text) => set({ text }),
});

const recoveryStore = openSharedRecoveryStore({ apiBaseUrl: location.origin }); // one per page

const useEditor = create<State>()(
  recovery(
    (set, get, api) => ({ ...editor(set, get, api), ...createRecoverySlice<State, Params>()(set, get, api) }),
    {
      store: recoveryStore,
      sessionId: (s) => s.id,
      select: (s) => ({ text: s.text, voiceId: s.voice, params: s.params }), // autosaved as it changes
      merge: (session, s) => ({ id: session.id, text: session.text, voice: session.voiceId ?? s.voice, params: session.params ?? s.params }),
    },
  ),
);

function TextField() {
  const { text, setText } = useEditor();
  const state = useSaveState(); // inside the provider
  return <textarea value={text} onChange={(e) => setText(e.target.value)} aria-label={`Text (${state})`} />;
}

function App() {
  const { crashedSessions, restore, dismiss } = useEditor((s) => s.recovery);
  const [open, setOpen] = useState(false);
  return (
    <RecoveryProvider store={recoveryStore}>
      <AutoSaveIndicator />
      <RecoveryBanner sessions={crashedSessions} onOpen={() => setOpen(true)} />
      <RecoveryModal open={open} onClose={() => setOpen(false)} sessions={crashedSessions} onRestore={restore} onDismiss={dismiss} />
      <TextField />
      <p>{peekSessions().length} sessions hinted at start-up</p>
    </RecoveryProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
