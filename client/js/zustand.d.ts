import type { StateCreator, StoreMutatorIdentifier } from 'zustand';
import type {
  BackupOptions,
  BackupResult,
  Progress,
  RecoverResult,
  RecoveryStore,
  RestoredSession,
  SessionSummary,
} from './index.js';

export { createRecoveryStorage, type RecoveryStateStorage } from './storage.js';

/**
 * What the save indicator shows: `idle` until the first edit (nothing to save yet; the slice starts
 * there), then the store's statuses (`conflict` and `remote-update` are news, not states).
 */
export type IndicatorState = 'idle' | 'pending' | 'saving' | 'saved' | 'error' | 'quota';

/** A session summary whose `params` are the app's. */
export type RecoverySummary<P> = Omit<SessionSummary, 'params'> & { params: P };
/** A restored session whose `params` are the app's. */
export type RecoveredSession<P> = Omit<RestoredSession, 'params'> & { params: P };
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

export interface RecoveryApi<T, P> {
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

export interface RecoveryState<P> {
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
