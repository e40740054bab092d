// Twin of the switch in client/demo/copy.js (serverCopyOn, and toggle's localStorage): the example must stand alone as an app a developer copies; keep the two in step.
// The "Keep a copy on the server" switch, kept by the page in localStorage so a relaunch keeps it.
// Its own module, importing nothing: recoveryStore.ts reads it before anything else is evaluated.

const SWITCH_KEY = 'chatterbox-demo:server-copy';

/** Whether the user turned the server copy on in this browser (off unless they did). */
export function serverCopyOn(): boolean {
  try {
    return localStorage.getItem(SWITCH_KEY) === 'on';
  } catch {
    return false; // no localStorage: the switch cannot be kept, so it stays off
  }
}

/** Keeps the switch; false when this browser does not let the page keep it. */
export function keepServerCopy(on: boolean): boolean {
  try {
    if (on) localStorage.setItem(SWITCH_KEY, 'on');
    else localStorage.removeItem(SWITCH_KEY);
    return true;
  } catch {
    return false;
  }
}
