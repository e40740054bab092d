import type { StateCreator, StoreMutatorIdentifier } from 'zustand';
import type {
  BackupOptions,
  BackupResult,
  Progress,
  RecoverResult,
  RecoveryStore,
  RestoredSession,
  SessionSummary,
  WriteResult,
} from './index.js';
import type { IndicatorState } from './status.js';

export { createRecoveryStorage, type RecoveryStateStorage } from './storage.js';

/** The save state: see status.d.ts (one rule for /react and /zustand). */
export type { IndicatorState };

/**
 * A session summary whose `params` are the app's, or `null`: a session stored by another page or
 * an older release, or whose audio came through the plain API's `appendChunk` before a text
 * save, has none (`text` is then `''` and `voiceId` `null`). A `merge` keeps the state's own then.
 */
export type RecoverySummary<P> = Omit<SessionSummary, 'params'> & { params: P | null };
/** A restored session whose `params` are the app's, or `null` (see `RecoverySummary`). */
export type RecoveredSession<P> = Omit<RestoredSession, 'params'> & { params: P | null };
/** What `recover` resolves, with the app's `params`. */
export type RecoveredResult<P> = Omit<RecoverResult, 'session'> & { session: RecoveredSession<P> | null };

/** The part of the app's state that is autosaved. */
export interface RecoverySnapshot<P> {
  text: string;
  voiceId?: string | null;
  params: P;
}

/** The recovery store, a promise of one, or a function returning either (called once). */
export type RecoveryStoreSource = RecoveryStore | Promise<RecoveryStore> | (() => RecoveryStore | Promise<RecoveryStore>);

export interface RecoveryOptions<T, P> {
  store: RecoveryStoreSource;
  /** The session the state belongs to; `null` or `''`: nothing to save yet. */
  sessionId: (state: T) => string | null | undefined;
  /** The slice to autosave: text, voice and the app's parameters. Compared shallowly (`params` one level deep). */
  select: (state: T) => RecoverySnapshot<P>;
  /** The state after restoring `session` (from this browser or from a server backup). */
  merge: (session: RecoveredSession<P>, state: T) => Partial<T>;
  /** Look for crashed sessions while hydrating. Default true. */
  detect?: boolean;
  /** Do not hydrate at creation; call `api.recovery.rehydrate()`. Default false. */
  skipHydration?: boolean;
}

/** Where a take is stored, and what with. */
export interface TakeOptions<P> {
  /** The session; default the state's (`sessionId(state)`). */
  id?: string;
  /** What to store with the take; default `select(state)` (a take the editor shows). */
  snapshot?: RecoverySnapshot<P>;
  /** Drop the session's earlier parts first (a new take of the same session). Default false. */
  clear?: boolean;
}

export interface PartOptions {
  /** The session; default the state's. */
  id?: string;
  /** Default `audio/wav`. */
  mime?: string;
}

/**
 * Audio through the store. Each action waits for the store to open. A session's parts wait for
 * the write that started its take, so its text, voice and params are stored before its audio.
 */
export interface RecoveryAudioActions<P> {
  /**
   * "Generate": commits the state's text, voice and params (`select(state)`, or `snapshot`) under
   * the session now, and with `clear` drops its earlier parts first. Resolves when committed.
   */
  startTake(options?: TakeOptions<P>): Promise<WriteResult>;
  /**
   * Stores one part as it arrives (one transaction each; `{ stored: false }` rather than a
   * rejection when storage stays full). A part of the state's session with no take started in
   * this page starts one first (`startTake()`), so an unedited draft's text, voice and params
   * come back with its audio.
   */
  appendPart(index: number, bytes: ArrayBuffer | ArrayBufferView, options?: PartOptions): Promise<WriteResult>;
  /** Marks the take finished (its audio may be evicted first when storage is full). */
  completeTake(id?: string): Promise<void>;
  /**
   * Drops a session's parts and keeps its text, voice and params (the state's for the state's
   * session, else the stored ones), and its server token (`store.clearChunks`, one transaction).
   */
  clearParts(id?: string): Promise<WriteResult>;
}

export interface RecoveryApi<T, P> extends RecoveryAudioActions<P> {
  /** The store is open and crashed sessions are known. */
  hasHydrated(): boolean;
  /** Called when hydration starts; returns the unsubscribe. */
  onHydrate(listener: (state: T) => void): () => void;
  /** Called when hydration ends, opened or failed (`getError()`); returns the unsubscribe. */
  onFinishHydration(listener: (state: T) => void): () => void;
  /**
   * Called when a change is kept because the store is not open yet (it is handed over when the
   * store opens, which then reports its own statuses); returns the unsubscribe.
   */
  onUnsavedChange(listener: () => void): () => void;
  /** A change is waiting for the store to open. */
  hasUnsavedChanges(): boolean;
  rehydrate(): Promise<void>;
  getStore(): RecoveryStore | null;
  getError(): unknown;
  /** Crashed sessions found while hydrating, minus those restored since. */
  getCrashedSessions(): RecoverySummary<P>[];
  getSessionId(): string | null | undefined;
  /** Merges a session into the state (autosaved, which claims it for this tab). */
  apply(session: RecoveredSession<P>): void;
  /** Restores a stored session into the state; `null` if there is none. */
  restore(id: string): Promise<RecoveredSession<P> | null>;
  /** Resolves when every autosaved change is committed. */
  flush(): Promise<void>;
}

type Write<T, U> = Omit<T, keyof U> & U;

declare module 'zustand/vanilla' {
  interface StoreMutators<S, A> {
    'chatterbox/recovery': Write<
      S,
      { recovery: RecoveryApi<S extends { getState: () => infer T } ? T : never, A> }
    >;
  }
}

export function recovery<
  T,
  P,
  Mps extends [StoreMutatorIdentifier, unknown][] = [],
  Mcs extends [StoreMutatorIdentifier, unknown][] = [],
>(
  initializer: StateCreator<T, [...Mps, ['chatterbox/recovery', unknown]], Mcs>,
  options: RecoveryOptions<NoInfer<T>, P>,
): StateCreator<T, Mps, [['chatterbox/recovery', P], ...Mcs]>;

export interface SliceBackupOptions extends BackupOptions {
  /** The session to back up; default the one the state belongs to. */
  id?: string;
}

export interface SliceRecoverOptions {
  /** Store it under this id; default the id in the backed-up session. */
  id?: string | null;
  /** Merge the recovered session into the state. Default true. */
  apply?: boolean;
  onProgress?: (progress: Progress) => void;
}

export interface RecoveryState<P> extends RecoveryAudioActions<P> {
  /** The store is open and crashed sessions are known. */
  hydrated: boolean;
  status: IndicatorState;
  /** What the store said with the status (why an error, what was evicted). */
  message: string | null;
  /** The last action's failure, or the store's at opening. */
  error: string | null;
  /** Sessions of tabs that ended without closing, newest first. */
  crashedSessions: RecoverySummary<P>[];
  /** The last backup or recovery's progress. */
  progress: Progress | null;
  /** The action under way. */
  busy: 'restore' | 'dismiss' | 'backup' | 'recover' | null;
  lastBackup: { id: string; token: string; expiresAt: string } | null;
  restore(id: string): Promise<RecoveredSession<P> | null>;
  dismiss(id: string): Promise<void>;
  /** Backs up the whole session (text, voice, parameters, every part); the latest edits first. */
  backup(options?: SliceBackupOptions): Promise<BackupResult>;
  /** Recovers a backed-up session by token and (by default) merges it into the state. */
  recover(token: string, options?: SliceRecoverOptions): Promise<RecoveredResult<P>>;
  /** Stops following the store's status events. */
  stopListening(): void;
}

export interface RecoverySlice<P> {
  recovery: RecoveryState<P>;
}

export function createRecoverySlice<T extends RecoverySlice<P>, P>(): StateCreator<
  T,
  [['chatterbox/recovery', unknown]],
  [],
  RecoverySlice<P>
>;
