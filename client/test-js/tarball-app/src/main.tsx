// A new app that installed @chatterbox/recovery-client from its tarball: a small TTS editor (text,
// voice, parameters, a take of audio parts) with recovery added, typed and built by Vite. The
// package's README (client/README.md) and the project's ("Add recovery to a React + Zustand
// app") are cut from here, and from vite.config.ts and index.html (the banner in the first
// paint): check-react.sh checks that each line of their marked snippets is in its file. The
// lines that exist for recovery, in the three, are counted in client/README.md, "Figures".
import { markCleanExit, onRecoveryHint, recoveryHinted } from '@chatterbox/recovery-client/hint';
import { StrictMode, useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { create, type StateCreator } from 'zustand';
import {
  AutoSaveIndicator,
  RecoveryBanner,
  RecoveryModal,
  RecoveryProvider,
  openSharedRecoveryStore,
} from '@chatterbox/recovery-client/react';
import { createRecoverySlice, recovery, type RecoverySlice } from '@chatterbox/recovery-client/zustand';
import '@chatterbox/recovery-client/react.css';
import { peekSessions } from '@chatterbox/recovery-client';
import { useSaveState } from '@chatterbox/recovery-client/react';

interface Params {
  exaggeration: number;
  seed: number;
}
interface Editor {
  id: string;
  text: string;
  voice: string;
  params: Params;
  parts: ArrayBuffer[];
  setText: (text: string) => void;
}
type State = Editor & RecoverySlice<Params>;

const editor: StateCreator<State, [['chatterbox/recovery', unknown]], [], Editor> = (set) => ({
  id: crypto.randomUUID(),
  text: 'A draft the app starts with. Nobody edited it.',
  voice: 'default',
  params: { exaggeration: 0.5, seed: 0 },
  parts: [],
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
      merge: (session, s) => ({
        id: session.id,
        text: session.text,
        voice: session.voiceId ?? s.voice, // null for a session stored with no voice
        params: session.params ?? s.params, // likewise: the state's own, never null
        parts: session.chunks.map((c) => c.bytes), // the take's audio, in order
      }),
    },
  ),
);

// A clean exit once nothing is left to recover: the next start's hint then says nothing waits.
addEventListener('pagehide', () => {
  const { hydrated, crashedSessions } = useEditor.getState().recovery;
  if (hydrated && crashedSessions.length === 0) markCleanExit();
});

/** The app's speech endpoint (a Chatterbox server's OpenAI-style route): one request a sentence. */
async function* speak(text: string, voice: string, params: Params): AsyncGenerator<ArrayBuffer> {
  for (const input of text.split(/(?<=[.!?])\s+/).filter(Boolean)) {
    const body = JSON.stringify({ model: 'chatterbox', input, voice, response_format: 'wav', ...params });
    const response = await fetch('/v1/audio/speech', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (!response.ok) throw new Error(`speech endpoint: HTTP ${response.status}`);
    yield await response.arrayBuffer();
  }
}

async function generate() {
  const { text, voice, params, recovery } = useEditor.getState();
  useEditor.setState({ parts: [] });
  await recovery.startTake({ clear: true }); // text, voice, params stored; the last take's parts dropped
  let index = 0;
  for await (const part of speak(text, voice, params)) {
    useEditor.setState((s) => ({ parts: [...s.parts, part] }));
    await recovery.appendPart(index++, part); // each part stored as it arrives
  }
  await recovery.completeTake();
}

function TextField() {
  const { text, setText } = useEditor();
  return <textarea value={text} onChange={(e) => setText(e.target.value)} aria-label="Text" />;
}

function App() {
  const { crashedSessions, restore, dismiss, hydrated } = useEditor((s) => s.recovery);
  const parts = useEditor((s) => s.parts.length);
  const [open, setOpen] = useState(false);
  const hinted = useSyncExternalStore(onRecoveryHint, recoveryHinted, () => false); // the hint's mark, even after this render
  return (
    <RecoveryProvider store={recoveryStore}>
      <AutoSaveIndicator waiting={crashedSessions.length} />
      <RecoveryBanner sessions={crashedSessions} checking={hinted && !hydrated} onOpen={() => setOpen(true)} />
      <RecoveryModal open={open} onClose={() => setOpen(false)} sessions={crashedSessions} onRestore={restore} onDismiss={dismiss} />
      <TextField />
      <button type="button" onClick={() => void generate()}>Generate</button>
      <p>{parts} audio parts</p>
      <MoreExports />
    </RecoveryProvider>
  );
}

// Not part of the guide: the rest of the exports, type-checked and built as an app uses them.
function MoreExports() {
  const state = useSaveState(); // inside the provider
  return <p aria-label={`Save state ${state}`}>{peekSessions().length} sessions hinted at start-up</p>;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
