// Recovery for a Zustand store: the `StateStorage` adapter, the `recovery` middleware that
// autosaves a slice of an existing store through the recovery store's write-through `autosave()`,
// and a slice of recovery state and actions. Nothing here imports Zustand at run time (its types
// only): a middleware is a function of `(set, get, api)`, so the package needs Zustand only as a
// peer.

import type { StateCreator, StoreApi, StoreMutatorIdentifier } from 'zustand';
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
import { listen, messageOf, storeStatus, type IndicatorState } from './status.js';

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
  /**
   * Why the store did not open (the last hydration's failure), or null. A change the open store
   * refuses is reported as its status instead (`error`, with the reason as its message).
   */
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
    'chatterbox/recovery': Write<S, { recovery: RecoveryApi<S extends { getState: () => infer T } ? T : never, A> }>;
  }
}

/** The middleware as apps see it: Zustand's mutator types, the app's state `T` and params `P`. */
type Recovery = <
  T,
  P,
  Mps extends [StoreMutatorIdentifier, unknown][] = [],
  Mcs extends [StoreMutatorIdentifier, unknown][] = [],
>(
  initializer: StateCreator<T, [...Mps, ['chatterbox/recovery', unknown]], Mcs>,
  options: RecoveryOptions<NoInfer<T>, P>,
) => StateCreator<T, Mps, [['chatterbox/recovery', P], ...Mcs]>;

/** Zustand's `setState` and `set`, overloads aside. */
type SetState = (partial: unknown, replace?: boolean) => void;

/** What the middleware stores: a `RecoverySnapshot` under its session's id. */
interface Snapshot<P> extends RecoverySnapshot<P> {
  id: string;
  voiceId: string | null;
}

const sameParams = (a: unknown, b: unknown) => {
  if (Object.is(a, b)) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((k) => Object.hasOwn(b, k) && Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
};

const sameSnapshot = <P>(a: Snapshot<P>, b: Snapshot<P>) =>
  a.id === b.id && a.text === b.text && a.voiceId === b.voiceId && sameParams(a.params, b.params);

/** The recovery store from what the app gave: a store, a promise of one, or a function returning either. */
const resolveStore = (source: RecoveryStoreSource) => Promise.resolve(typeof source === 'function' ? source() : source);

const recoveryImpl = <T, P>(config: StateCreator<T>, options: RecoveryOptions<T, P>): StateCreator<T> =>
  (set, get, api) => {
    const { store: source, sessionId, select, merge, detect = true, skipHydration = false } = options;
    let store: RecoveryStore | null = null;
    let hydrated = false;
    let hydration: Promise<void> | null = null;
    let error: unknown = null;
    let crashed: RecoverySummary<P>[] = [];
    /** The last snapshot handed to the store (or waiting for it): what "changed" compares with. */
    let last: Snapshot<P> | null = null;
    let unsent = false;
    const hydrateListeners = new Set<(state: T) => void>();
    const finishListeners = new Set<(state: T) => void>();
    const unsavedListeners = new Set<() => void>();

    /** What `select` gives for `state`, under `id`. */
    const snapshotFor = (id: string, state: T): Snapshot<P> => {
      const { text, voiceId, params } = select(state);
      return { id, text, voiceId: voiceId ?? null, params };
    };
    const snapshotOf = (state: T) => {
      const id = sessionId(state);
      return id == null || id === '' ? null : snapshotFor(id, state);
    };

    /** Hands a snapshot to the open store. */
    const hand = (snapshot: Snapshot<P>) => {
      try {
        store!.autosave(snapshot);
      } catch (e) {
        // The store reports its failures through its status events, and a set() never throws for
        // them: a snapshot it refused outright is reported the same way, where the indicator and
        // the slice show it.
        storeStatus(store!).report({ status: 'error', sessionIds: [snapshot.id], message: messageOf(e), evicted: [] });
      }
    };

    const autosave = () => {
      const next = snapshotOf(get());
      if (next === null || (last !== null && sameSnapshot(last, next))) return;
      last = next;
      if (store) {
        hand(next); // the store reports `pending` itself
      } else {
        unsent = true;
        for (const listener of unsavedListeners) listener();
      }
    };

    // Zustand's setters are overloaded (`replace` true or not); they are only passed through here.
    const savingSetState = api.setState as SetState;
    api.setState = (...args: Parameters<SetState>) => {
      savingSetState(...args);
      autosave();
    };
    const savingSet: typeof set = (...args: Parameters<SetState>) => {
      (set as SetState)(...args);
      autosave();
    };

    const requireStore = () => {
      if (!store) throw new Error('the recovery store is not open yet (await api.recovery.rehydrate())');
      return store;
    };

    const hydrate = () => {
      hydration ??= (async () => {
        hydrated = false;
        for (const listener of hydrateListeners) listener(get());
        try {
          store = await resolveStore(source);
          crashed = detect ? ((await store.detect()) as RecoverySummary<P>[]) : [];
          error = null;
          if (unsent && last) hand(last);
          unsent = false;
          hydrated = true;
        } catch (e) {
          error = e;
          hydration = null; // rehydrate() may try again
        }
        for (const listener of finishListeners) listener(get());
      })();
      return hydration;
    };

    /** The store once open: hydration is awaited (and started, with `skipHydration`). */
    const opened = async (): Promise<RecoveryStore> => {
      // An opening under way is awaited, one never started (skipHydration) is started; a failed one
      // is not retried here (each part would try again): rehydrate() does that.
      if (!store && (hydration || !error)) await hydrate();
      if (!store) throw error instanceof Error ? error : new Error(`the recovery store did not open: ${error}`);
      return store;
    };

    /** The session an action is about: the one given, else the state's. */
    const idOr = (id: string | null | undefined) => {
      id ??= sessionId(get());
      if (id == null || id === '') throw new Error('there is no session (sessionId(state) is empty)');
      return id;
    };

    /**
     * Per session, the write that starts its take (the snapshot, and with `clear` the old parts
     * gone): its parts wait for it, so audio never lands in a session whose text, voice and params
     * are not stored, and never before the old parts are dropped.
     */
    const takes = new Map<string, Promise<WriteResult>>();

    /**
     * Drops a session's parts, keeping `snapshot`: saved (so the session exists), then
     * `clearChunks` drops the parts in one transaction, keeping the record and its server token.
     */
    const replace = async (snapshot: Snapshot<P>) => {
      const s = await opened();
      const saved = await s.save(snapshot);
      await s.clearChunks(snapshot.id);
      return saved;
    };

    /** Records the write that starts a take, so `appendPart` waits for it; returns it. */
    const starting = (id: string, write: () => Promise<WriteResult>) => {
      const started = write();
      takes.set(id, started);
      return started;
    };

    const startTake = async ({ id, clear = false, snapshot: given }: TakeOptions<P> = {}) => {
      id = idOr(id);
      const snapshot = given ? { ...given, id, voiceId: given.voiceId ?? null } : snapshotFor(id, get());
      // The state shows this snapshot: autosave need not hand it over again.
      if (!given && id === sessionId(get())) last = snapshot;
      return starting(id, async () => (clear ? replace(snapshot) : (await opened()).save(snapshot)));
    };

    const clearParts = async (id?: string) => {
      id = idOr(id);
      return starting(id, async () => {
        let snapshot = id === sessionId(get()) ? snapshotOf(get()) : null;
        if (!snapshot) {
          const record = (await (await opened()).list()).find((r) => r.id === id);
          if (!record) return { stored: true, evicted: [] }; // nothing stored, nothing to clear
          snapshot = { id, text: record.text, voiceId: record.voiceId, params: record.params as P };
        }
        return replace(snapshot);
      });
    };

    /** Waits for the write that started the take (its failure is the store's `error` status). */
    const started = (id: string) => (takes.get(id) ?? Promise.resolve()).catch(() => undefined);

    const appendPart = async (index: number, bytes: ArrayBuffer | ArrayBufferView, { id, mime = 'audio/wav' }: PartOptions = {}) => {
      id = idOr(id);
      // A part of the state's session with no take started (a Generate on an unedited draft, which
      // autosave never saw as a change): its text, voice and params are stored first.
      if (!takes.has(id) && id === sessionId(get())) void startTake({ id }).catch(() => undefined);
      await started(id);
      return (await opened()).appendChunk(id, index, bytes, mime);
    };

    const completeTake = async (id?: string) => {
      id = idOr(id);
      const take = takes.get(id);
      await started(id);
      if (takes.get(id) === take) takes.delete(id);
      return (await opened()).complete(id);
    };

    /** Puts a session into the app's state; the change is autosaved, which claims it for this tab. */
    const apply = (session: RecoveredSession<P>) => {
      savingSet(merge(session, get()));
    };

    (api as StoreApi<T> & { recovery: RecoveryApi<T, P> }).recovery = {
      hasHydrated: () => hydrated,
      onHydrate: listen(hydrateListeners),
      onFinishHydration: listen(finishListeners),
      onUnsavedChange: listen(unsavedListeners),
      hasUnsavedChanges: () => unsent,
      rehydrate: () => {
        if (hydrated) hydration = null;
        return hydrate();
      },
      getStore: () => store,
      getError: () => error,
      getCrashedSessions: () => crashed,
      getSessionId: () => sessionId(get()),
      apply,
      restore: async (id) => {
        const session = (await requireStore().restore(id)) as RecoveredSession<P> | null;
        if (session) apply(session);
        crashed = crashed.filter((s) => s.id !== id);
        return session;
      },
      flush: () => (store ? store.flush() : Promise.resolve()),
      startTake,
      appendPart,
      completeTake,
      clearParts,
    };

    const initial = config(savingSet, get, api);
    last = snapshotOf(initial);
    if (!skipHydration) void hydrate();
    return initial;
  };

/**
 * `recovery(config, { store, sessionId, select, merge })`: autosaves `select(state)` under
 * `sessionId(state)` whenever it changes. Each change is handed to the store's synchronous
 * `autosave()`, which coalesces: one IndexedDB write in flight, the newest snapshot next. So a
 * keystroke costs a shallow comparison and a queue slot, not a transaction.
 *
 * Audio goes through it too: `startTake`, `appendPart`, `completeTake` and `clearParts` on
 * `api.recovery` store the snapshot themselves before the first part, so a session with audio
 * always has its text, voice and params.
 *
 * Hydration is asynchronous (the wasm loads, the store opens, crashed sessions are detected)
 * and observable on `api.recovery`, as with `persist`: `hasHydrated()`, `onHydrate()`,
 * `onFinishHydration()`, each listener registration returning its unsubscribe.
 */
export const recovery = recoveryImpl as unknown as Recovery;

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
  /** What the indicator shows: the store's status by the rule /react follows (status.d.ts). */
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

const INITIAL_SLICE_STATE: Pick<
  RecoveryState<never>,
  'hydrated' | 'status' | 'message' | 'error' | 'crashedSessions' | 'progress' | 'busy' | 'lastBackup'
> = {
  hydrated: false,
  // Nothing typed yet: not "saved" (nothing was), as the React indicator's `idle`.
  status: 'idle',
  message: null,
  error: null,
  crashedSessions: [],
  progress: null,
  busy: null,
  lastBackup: null,
};

/**
 * The recovery slice: `state.recovery` holds what a recovery UI shows (the indicator's status,
 * the crashed sessions, progress) and the actions on it. Use inside `recovery(...)`:
 * `recovery((...a) => ({ ...editor(...a), ...createRecoverySlice()(...a) }), options)`.
 */
export const createRecoverySlice =
  <T extends RecoverySlice<P>, P>(): StateCreator<T, [['chatterbox/recovery', unknown]], [], RecoverySlice<P>> =>
  (set, get, api) => {
    // The middleware's, with the app's params (the mutator types leave them `unknown` here).
    const middleware = api.recovery as unknown as RecoveryApi<T, P> | undefined;
    if (!middleware) throw new Error('createRecoverySlice() must be used inside the recovery() middleware');
    const patch = (changes: Partial<RecoveryState<P>>) =>
      set((state) => ({ recovery: { ...state.recovery, ...changes } }) as Partial<T>);
    /** Takes a session off `crashedSessions`. */
    const forget = (id: string) => patch({ crashedSessions: get().recovery.crashedSessions.filter((s) => s.id !== id) });
    const storeOrThrow = () => {
      const store = middleware.getStore();
      if (!store) throw new Error('the recovery store is not open yet');
      return store;
    };
    let stopListening: (() => void) | null = null;

    // Typed before the store is open: not saved yet, whatever the indicator said before.
    middleware.onUnsavedChange(() => {
      if (get().recovery.status !== 'pending') patch({ status: 'pending', message: null });
    });

    middleware.onFinishHydration(() => {
      const store = middleware.getStore();
      const error = middleware.getError();
      if (store && !stopListening) {
        // What the indicator shows: the store's one status source, which /react reads too.
        stopListening = storeStatus(store).subscribe((next) => {
          const now = get().recovery;
          if (next && (now.status !== next.status || now.message !== next.message)) {
            patch({ status: next.status, message: next.message });
          }
        });
      }
      patch({
        hydrated: middleware.hasHydrated(),
        crashedSessions: middleware.getCrashedSessions(),
        error: error == null ? null : messageOf(error),
        ...(store ? {} : { status: 'error' as const, message: messageOf(error) }),
      });
    });

    /** Runs an action with `busy` set, its failure recorded in `error` and rethrown. */
    const run = async <R>(busy: RecoveryState<P>['busy'], action: () => Promise<R>): Promise<R> => {
      patch({ busy, error: null });
      try {
        return await action();
      } catch (e) {
        patch({ error: messageOf(e) });
        throw e;
      } finally {
        patch({ busy: null });
      }
    };

    const progressTo = (onProgress?: (progress: Progress) => void) => (progress: Progress) => {
      patch({ progress });
      onProgress?.(progress);
    };

    return {
      recovery: {
        ...INITIAL_SLICE_STATE,
        restore: (id) =>
          run('restore', async () => {
            const session = await middleware.restore(id);
            forget(id);
            return session;
          }),
        dismiss: (id) =>
          run('dismiss', async () => {
            await storeOrThrow().dismiss(id);
            forget(id);
          }),
        backup: (options = {}) =>
          run('backup', async () => {
            const { id = middleware.getSessionId(), onProgress, ...rest } = options;
            if (id == null) throw new Error('there is no session to back up');
            const store = storeOrThrow();
            // What the editor shows is what goes to the server.
            await store.flush();
            const result = await store.backup(id, { ...rest, onProgress: progressTo(onProgress) });
            patch({ lastBackup: { id, token: result.token, expiresAt: result.expiresAt } });
            return result;
          }),
        recover: (token, options = {}) =>
          run('recover', async () => {
            const { id = null, apply = true, onProgress } = options;
            const result = (await storeOrThrow().recover(id, { token, onProgress: progressTo(onProgress) })) as RecoveredResult<P>;
            if (apply && result.audio === 'restored' && result.session) middleware.apply(result.session);
            return result;
          }),
        // Audio through the store: the middleware's, so non-React code can call them as well.
        startTake: middleware.startTake,
        appendPart: middleware.appendPart,
        completeTake: middleware.completeTake,
        clearParts: middleware.clearParts,
        stopListening: () => {
          stopListening?.();
          stopListening = null;
        },
      },
    };
  };
