// The editor: text, voice and Chatterbox parameters, read as one snapshot and written back on
// restore.
import { SETTINGS, ui } from './ui.js';

export function readEditor() {
  const settings = Object.fromEntries(SETTINGS.map((k) => [k, Number(ui[k].value)]));
  settings.seed = Math.max(0, Math.trunc(Number(ui.seed.value) || 0));
  return { text: ui.text.value, voiceId: ui.voice.value, settings };
}

export function writeEditor({ text, voiceId, params }) {
  ui.text.value = text ?? '';
  if (voiceId && [...ui.voice.options].some((o) => o.value === voiceId)) ui.voice.value = voiceId;
  for (const k of SETTINGS) if (typeof params?.[k] === 'number') ui[k].value = String(params[k]);
  if (typeof params?.seed === 'number') ui.seed.value = String(params.seed);
  showSettings();
}

export function showSettings() {
  for (const k of SETTINGS) {
    document.querySelector(`output[data-for="${k}"]`).value = Number(ui[k].value).toFixed(2);
  }
}

const sameSettings = (a, b) => [...SETTINGS, 'seed'].every((k) => a[k] === b[k]);

/** Whether a take was made from what the editor shows now. */
export const sameContent = (take, snap) =>
  take.text === snap.text && take.voiceId === snap.voiceId && sameSettings(take.settings, snap.settings);

/** What the store keeps for a session: `params` holds the settings and, for a take, its parts. */
export function sessionInput(id, { text, voiceId, settings }, parts = null) {
  return { id, text, voiceId, params: parts == null ? { ...settings } : { ...settings, parts } };
}
