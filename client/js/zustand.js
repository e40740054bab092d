// Recovery for a Zustand store: the `StateStorage` adapter, the `recovery`
// middleware that autosaves a slice of an existing store through the
// recovery store's write-through `autosave()`, and a slice of recovery state
// and actions. Nothing here imports Zustand: a middleware is a function of
// `(set, get, api)`, so the package needs Zustand only as a peer.
export { createRecoveryStorage } from './storage.js';
import { IDLE, nextStatus } from './status.js';

const sameParams = (a, b) => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && Object.is(a[k], b[k]));
};

const sameSnapshot = (a, b) =>
  a.id === b.id && a.text === b.text && a.voiceId === b.voiceId && sameParams(a.params, b.params);

/** The recovery store from what the app gave: a store, a promise of one, or a function returning either. */
const resolveStore = (source) => Promise.resolve(typeof source === 'function' ? source() : source);

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
export const recovery = (config, options) => (set, get, api) => {
  const { store: source, sessionId, select, merge, detect = true, skipHydration = false } = options;
  let store = null;
  let hydrated = false;
  let hydration = null;
  let error = null;
  let crashed = [];
  /** The last snapshot handed to the store (or waiting for it): what "changed" compares with. */
  let last = null;
  let unsent = false;
  const hydrateListeners = new Set();
  const finishListeners = new Set();
  const unsavedListeners = new Set();

  /** What `select` gives for `state`, under `id`. */
  const snapshotFor = (id, state) => {
    const { text, voiceId, params } = select(state);
    return { id, text, voiceId: voiceId ?? null, params };
  };
  const snapshotOf = (state) => {
    const id = sessionId(state);
    return id == null || id === '' ? null : snapshotFor(id, state);
  };

  const hand = (snapshot) => {
    try {
      store.autosave(snapshot);
    } catch (e) {
      // The store reports failures through its status events; a set() never throws for it.
      error = e;
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

  const savingSetState = api.setState;
  api.setState = (partial, replace) => {
    savingSetState(partial, replace);
    autosave();
  };
  const savingSet = (...args) => {
    set(...args);
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
        crashed = detect ? await store.detect() : [];
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
  const opened = async () => {
    // An opening under way is awaited, one never started (skipHydration) is started; a failed one
    // is not retried here (each part would try again): rehydrate() does that.
    if (!store && (hydration || !error)) await hydrate();
    if (!store) throw error instanceof Error ? error : new Error(`the recovery store did not open: ${error}`);
    return store;
  };

  /** The session an action is about: the one given, else the state's. */
  const idOr = (id) => {
    id ??= sessionId(get());
    if (id == null || id === '') throw new Error('there is no session (sessionId(state) is empty)');
    return id;
  };

  /**
   * Per session, the write that starts its take (the snapshot, and with `clear` the old parts
   * gone): its parts wait for it, so audio never lands in a session whose text, voice and params
   * are not stored, and never before the old parts are dropped.
   */
  const takes = new Map();

  /**
   * Drops a session's parts, keeping `snapshot`: saved (so the session exists), then
   * `clearChunks` drops the parts in one transaction, keeping the record and its server token.
   */
  const replace = async (snapshot) => {
    const s = await opened();
    const saved = await s.save(snapshot);
    await s.clearChunks(snapshot.id);
    return saved;
  };

  /** Records the write that starts a take, so `appendPart` waits for it; returns it. */
  const starting = (id, write) => {
    const started = write();
    takes.set(id, started);
    return started;
  };

  const startTake = async ({ id, clear = false, snapshot: given } = {}) => {
    id = idOr(id);
    const snapshot = given ? { ...given, id, voiceId: given.voiceId ?? null } : snapshotFor(id, get());
    // The state shows this snapshot: autosave need not hand it over again.
    if (!given && id === sessionId(get())) last = snapshot;
    return starting(id, async () => (clear ? replace(snapshot) : (await opened()).save(snapshot)));
  };

  const clearParts = async (id) => {
    id = idOr(id);
    return starting(id, async () => {
      let snapshot = id === sessionId(get()) ? snapshotOf(get()) : null;
      if (!snapshot) {
        const record = (await (await opened()).list()).find((r) => r.id === id);
        if (!record) return { stored: true, evicted: [] }; // nothing stored, nothing to clear
        snapshot = { id, text: record.text, voiceId: record.voiceId, params: record.params };
      }
      return replace(snapshot);
    });
  };

  /** Waits for the write that started the take (its failure is the store's `error` status). */
  const started = (id) => (takes.get(id) ?? Promise.resolve()).catch(() => undefined);

  const appendPart = async (index, bytes, { id, mime = 'audio/wav' } = {}) => {
    id = idOr(id);
    // A part of the state's session with no take started (a Generate on an unedited draft, which
    // autosave never saw as a change): its text, voice and params are stored first.
    if (!takes.has(id) && id === sessionId(get())) void startTake({ id }).catch(() => undefined);
    await started(id);
    return (await opened()).appendChunk(id, index, bytes, mime);
  };

  const completeTake = async (id) => {
    id = idOr(id);
    const take = takes.get(id);
    await started(id);
    if (takes.get(id) === take) takes.delete(id);
    return (await opened()).complete(id);
  };

  /** Puts a session into the app's state; the change is autosaved, which claims it for this tab. */
  const apply = (session) => {
    savingSet(merge(session, get()));
  };

  api.recovery = {
    hasHydrated: () => hydrated,
    onHydrate: (listener) => {
      hydrateListeners.add(listener);
      return () => void hydrateListeners.delete(listener);
    },
    onFinishHydration: (listener) => {
      finishListeners.add(listener);
      return () => void finishListeners.delete(listener);
    },
    onUnsavedChange: (listener) => {
      unsavedListeners.add(listener);
      return () => void unsavedListeners.delete(listener);
    },
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
      const session = await requireStore().restore(id);
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

const INITIAL_SLICE_STATE = {
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

const messageOf = (e) => (e instanceof Error ? e.message : String(e));

/**
 * The recovery slice: `state.recovery` holds what a recovery UI shows (the indicator's status,
 * the crashed sessions, progress) and the actions on it. Use inside `recovery(...)`:
 * `recovery((...a) => ({ ...editor(...a), ...createRecoverySlice()(...a) }), options)`.
 */
export const createRecoverySlice = () => (set, get, api) => {
  const middleware = api.recovery;
  if (!middleware) throw new Error('createRecoverySlice() must be used inside the recovery() middleware');
  const patch = (changes) => set((state) => ({ recovery: { ...state.recovery, ...changes } }));
  const forget = (id) => (sessions) => sessions.filter((s) => s.id !== id);
  const storeOrThrow = () => {
    const store = middleware.getStore();
    if (!store) throw new Error('the recovery store is not open yet');
    return store;
  };
  let stopListening = null;

  // What the indicator shows: the rule /react follows too (status.js), both copies told apart.
  let seen = IDLE;
  const onStatus = (event) => {
    const next = nextStatus(seen, event);
    if (!next) return; // news (conflict, remote-update): the state stands
    seen = next;
    const now = get().recovery;
    if (now.status !== next.status || now.message !== next.message) patch({ status: next.status, message: next.message });
  };

  // Typed before the store is open: not saved yet, whatever the indicator said before.
  middleware.onUnsavedChange(() => {
    if (get().recovery.status !== 'pending') patch({ status: 'pending', message: null });
  });

  middleware.onFinishHydration(() => {
    const store = middleware.getStore();
    const error = middleware.getError();
    if (store && !stopListening) {
      const off = store.onStatus(onStatus);
      stopListening = typeof off === 'function' ? off : () => store.offStatus(onStatus);
    }
    patch({
      hydrated: middleware.hasHydrated(),
      crashedSessions: middleware.getCrashedSessions(),
      error: error == null ? null : messageOf(error),
      ...(store ? {} : { status: 'error', message: messageOf(error) }),
    });
  });

  /** Runs an action with `busy` set, its failure recorded in `error` and rethrown. */
  const run = async (busy, action) => {
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

  const progressTo = (onProgress) => (progress) => {
    patch({ progress });
    onProgress?.(progress);
  };

  return {
    recovery: {
      ...INITIAL_SLICE_STATE,
      restore: (id) =>
        run('restore', async () => {
          const session = await middleware.restore(id);
          patch({ crashedSessions: forget(id)(get().recovery.crashedSessions) });
          return session;
        }),
      dismiss: (id) =>
        run('dismiss', async () => {
          await storeOrThrow().dismiss(id);
          patch({ crashedSessions: forget(id)(get().recovery.crashedSessions) });
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
          const result = await storeOrThrow().recover(id, { token, onProgress: progressTo(onProgress) });
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
