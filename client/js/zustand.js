// Recovery for a Zustand store: the `StateStorage` adapter, the `recovery`
// middleware that autosaves a slice of an existing store through the
// recovery store's write-through `autosave()`, and a slice of recovery state
// and actions. Nothing here imports Zustand: a middleware is a function of
// `(set, get, api)`, so the package needs Zustand only as a peer.
export { createRecoveryStorage } from './storage.js';

/**
 * The states the store's events set; `conflict` and `remote-update` are news, not states. (`idle`,
 * nothing handed over yet, is where the slice starts: no event says it.)
 */
const INDICATOR_STATES = new Set(['pending', 'saving', 'saved', 'error', 'quota']);

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

  const snapshotOf = (state) => {
    const id = sessionId(state);
    if (id == null || id === '') return null;
    const { text, voiceId, params } = select(state);
    return { id, text, voiceId: voiceId ?? null, params };
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

  const onStatus = (event) => {
    const now = get().recovery;
    if (INDICATOR_STATES.has(event.status)) {
      if (now.status !== event.status || now.message !== event.message) {
        patch({ status: event.status, message: event.message });
      }
    }
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
      stopListening: () => {
        stopListening?.();
        stopListening = null;
      },
    },
  };
};
