import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { markCleanExit } from '@chatterbox/recovery-client/hint';
import { RecoveryProvider } from '@chatterbox/recovery-client/react';
import '@chatterbox/recovery-client/react.css';
import './app.css';
import { App } from './App';
import { recoveryStore } from './recoveryStore';
import { useStudio } from './studio';

// What the end-to-end tests read, as on the plain demo page.
Object.defineProperty(window, 'chatterboxDemo', {
  configurable: true,
  value: {
    get store() {
      return useStudio.recovery.getStore();
    },
    get takes() {
      return useStudio.getState().takes;
    },
    get currentId() {
      return useStudio.getState().sessionId;
    },
  },
});

// For the page script's hint next time (index.html): when this page last closed with nothing left
// to recover. Before the recovery check is done, or while crashed sessions are still on offer
// (neither restored nor dismissed), it is not a clean exit: the next load's first paint has the
// banner again.
addEventListener('pagehide', () => {
  const { hydrated, crashedSessions } = useStudio.getState().recovery;
  if (!hydrated || crashedSessions.length > 0) return;
  markCleanExit();
});

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <RecoveryProvider store={recoveryStore}>
      <App />
    </RecoveryProvider>
  </StrictMode>,
);
