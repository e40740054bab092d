// The app's state: the editor (text, voice, settings), the takes with their audio parts, and
// the recovery slice. The `recovery` middleware autosaves the editor's session as it changes.
import { create } from 'zustand';
import {
  createRecoverySlice,
  recovery,
  type RecoveredSession,
  type RecoverySlice,
  type RecoverySnapshot,
} from '@chatterbox/recovery-client/zustand';
import { recoveryStore } from './recoveryStore';

export const VOICES = [
  { id: 'default', name: 'Default' },
  { id: 'emily', name: 'Emily' },
  { id: 'olivia', name: 'Olivia' },
  { id: 'james', name: 'James' },
  { id: 'adam', name: 'Adam' },
] as const;

export interface Settings {
  exaggeration: number;
  cfgWeight: number;
  temperature: number;
  seed: number;
}

/** What the store keeps as `params`: the settings and, for a take, its number of parts. */
export interface Params extends Settings {
  parts?: number;
}

export interface Chunk {
  index: number;
  bytes: ArrayBuffer;
  /** Hex SHA-256, null while being hashed. */
  sha: string | null;
  /** null while being written. */
  stored: boolean | null;
}

export interface Take {
  id: string;
  text: string;
  voiceId: string;
  settings: Settings;
  parts: number;
  chunks: ReadonlyMap<number, Chunk>;
  serverToken: string | null;
  note: string;
}

export interface Editor {
  /** The session the editor writes to. */
  sessionId: string;
  text: string;
  voiceId: string;
  settings: Settings;
}

export interface Studio extends Editor {
  /** By session id, oldest first. */
  takes: ReadonlyMap<string, Take>;
  /** The take being generated. */
  generating: string | null;
  /** Shown instead of the store's status while storage is full. */
  storageFull: string | null;
  edit(change: Partial<Omit<Editor, 'sessionId'>>): void;
  newSession(): void;
}

export type StudioState = Studio & RecoverySlice<Params>;

export const DEFAULT_SETTINGS: Settings = { exaggeration: 0.5, cfgWeight: 0.5, temperature: 0.8, seed: 0 };
export const newId = (): string => crypto.randomUUID();

const SETTING_KEYS = ['exaggeration', 'cfgWeight', 'temperature', 'seed'] as const;
const sameSettings = (a: Settings, b: Settings) => SETTING_KEYS.every((k) => a[k] === b[k]);
export const sameContent = (take: Take, editor: Omit<Editor, 'sessionId'>): boolean =>
  take.text === editor.text && take.voiceId === editor.voiceId && sameSettings(take.settings, editor.settings);

/** The autosaved slice: a take's session also keeps its number of parts. */
export function snapshotOf(state: Studio): RecoverySnapshot<Params> {
  const take = state.takes.get(state.sessionId);
  const params: Params = take && sameContent(take, state) ? { ...state.settings, parts: take.parts } : { ...state.settings };
  return { text: state.text, voiceId: state.voiceId, params };
}

const isVoice = (id: string | null): id is string => VOICES.some((v) => v.id === id);

/** The settings in stored params, each one checked: stored data may come from an older page. */
export function settingsFrom(params: Partial<Params> | null | undefined, fallback: Settings): Settings {
  const pick = (k: keyof Settings) => (typeof params?.[k] === 'number' ? params[k] : fallback[k]);
  return { exaggeration: pick('exaggeration'), cfgWeight: pick('cfgWeight'), temperature: pick('temperature'), seed: pick('seed') };
}

/** The state after a session comes back: the editor shows it, and a take stands for its audio. */
function merge(session: RecoveredSession<Params>, state: StudioState): Partial<StudioState> {
  const params: Partial<Params> | null = session.params;
  const voiceId = isVoice(session.voiceId) ? session.voiceId : state.voiceId;
  const settings = settingsFrom(params, state.settings);
  const parts = typeof params?.parts === 'number' ? params.parts : session.chunks.length || null;
  const takes = new Map(state.takes);
  takes.delete(session.id);
  if (parts !== null) {
    takes.set(session.id, {
      id: session.id,
      text: session.text,
      voiceId,
      settings,
      parts,
      chunks: new Map(), // filled in by the caller, which hashes each part
      serverToken: session.serverToken,
      note: session.audioEvicted ? 'audio was removed from this device when storage was full' : '',
    });
  }
  return { sessionId: session.id, text: session.text, voiceId, settings, takes };
}

export const useStudio = create<StudioState>()(
  recovery(
    (set, get, api) => ({
      sessionId: newId(),
      text: '',
      voiceId: 'default',
      settings: DEFAULT_SETTINGS,
      takes: new Map(),
      generating: null,
      storageFull: null,
      edit: (change) => {
        const next = { ...get(), ...change };
        const take = next.takes.get(next.sessionId);
        // A take's audio belongs to the text it was made from: editing it starts a new session.
        set({ ...change, sessionId: take && !sameContent(take, next) ? newId() : next.sessionId });
      },
      newSession: () => set({ sessionId: newId(), text: '' }),
      ...createRecoverySlice<StudioState, Params>()(set, get, api),
    }),
    {
      store: recoveryStore,
      sessionId: (state) => state.sessionId,
      select: snapshotOf,
      merge,
    },
  ),
);

/** Changes one take. */
export function updateTake(id: string, change: (take: Take) => Partial<Take>): void {
  useStudio.setState((state) => {
    const take = state.takes.get(id);
    if (!take) return {};
    const takes = new Map(state.takes);
    takes.set(id, { ...take, ...change(take) });
    return { takes };
  });
}

export function putTake(take: Take): void {
  useStudio.setState((state) => {
    const takes = new Map(state.takes);
    takes.delete(take.id);
    takes.set(take.id, take);
    return { takes };
  });
}
