import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RecoveryProvider } from '@chatterbox/recovery-client/react';
import '@chatterbox/recovery-client/react.css';
import './app.css';
import { App } from './App';
import { recoveryStore } from './recovery';
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

// For the page script's hint next time (index.html): when this page last closed normally.
addEventListener('pagehide', () => {
  try {
    localStorage.setItem('chatterbox-demo:clean-exit', String(Date.now()));
  } catch {
    // No localStorage: the hint is only a hint.
  }
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
