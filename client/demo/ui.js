// The page's elements, the `demo:*` events the end-to-end tests listen to, and small helpers
// shared by the demo's modules.

export const $ = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
export const query = new URLSearchParams(location.search);

export const ui = {
  text: $('tts-text'),
  voice: $('tts-voice'),
  seed: $('tts-seed'),
  exaggeration: $('tts-exaggeration'),
  cfgWeight: $('tts-cfg-weight'),
  temperature: $('tts-temperature'),
  generate: $('tts-generate'),
  status: $('tts-status'),
  endpoint: $('tts-endpoint'),
  player: $('tts-player'),
  takes: $('takes'),
  takesEmpty: $('takes-empty'),
  indicator: $('autosave-indicator'),
  banner: $('recovery-banner'),
  open: $('recovery-open'),
  modal: $('recovery-modal'),
  items: $('recovery-items'),
  backup: $('server-backup'),
  token: $('server-token'),
  recover: $('server-recover'),
  progress: $('recovery-progress'),
  message: $('server-message'),
  serverCopy: $('server-copy'),
  copyLink: $('copy-link'),
  link: $('recovery-link'),
  copies: $('server-copies'),
  copiesPanel: $('server-copies-panel'),
};

/** The Chatterbox parameters with a slider, besides the seed. */
export const SETTINGS = ['exaggeration', 'cfgWeight', 'temperature'];

/** Announces a state change: `demo:${name}` on window. */
export function emit(name, detail = {}) {
  window.dispatchEvent(new CustomEvent(`demo:${name}`, { detail }));
}

/** What the demo shares between its modules: the store, the session being edited, the takes. */
export const state = {
  /** @type {import('../js/index.js').RecoveryStore | null} */
  store: null,
  /** The session the editor writes to. */
  currentId: crypto.randomUUID(),
  /** The generation in progress, if any: `{ take, controller }`. */
  generating: null,
};

/** Takes by session id: text and settings they were made with, and their audio parts. */
export const takes = new Map();

export const newId = () => crypto.randomUUID();
export const errorText = (e) => (e instanceof Error ? e.message : String(e));
export const excerpt = (text, n) => (text.length > n ? `${text.slice(0, n - 1).trimEnd()}…` : text);
export const voiceName = (id) =>
  [...ui.voice.options].find((o) => o.value === id)?.textContent ?? id ?? 'unknown voice';
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
