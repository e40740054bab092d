// React bindings: one recovery store per page behind a provider, hooks with stable references,
// and three accessible components (unstyled; `react.css` styles them). Written without JSX so the package ships as is.
import {
  createContext,
  createElement as h,
  useContext,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { openRecoveryStore, recoveryDbName } from './index.js';
import { IDLE, nextStatus } from './status.js';

// ---- one store per page ---------------------------------------------------------------------

// On globalThis, not in a module variable: a hot-module update re-evaluates this module (or the
// app's) and must find the store already open, not open a second one on the same database.
const REGISTRY = Symbol.for('@chatterbox/recovery-client/react/stores');
const stores = () => (globalThis[REGISTRY] ??= new Map());
// One store per database: with `user`, that user's own (`recoveryDbName`).
const keyOf = recoveryDbName;

/**
 * The page's recovery store for `options.dbName` and `options.user`: opened on the first call, the same promise
 * after that (across hot updates too). `RecoveryProvider` closes it when the last provider
 * using it unmounts.
 */
export function openSharedRecoveryStore(options = {}) {
  const key = keyOf(options);
  let entry = stores().get(key);
  if (!entry) {
    entry = { promise: openRecoveryStore(options), users: 0, closeTimer: null };
    stores().set(key, entry);
    // A failed open is not cached: the next call tries again.
    entry.promise.catch(() => stores().get(key) === entry && stores().delete(key));
  }
  return entry.promise;
}

function acquire(options) {
  const promise = openSharedRecoveryStore(options);
  const entry = stores().get(keyOf(options));
  if (entry) {
    entry.users += 1;
    clearTimeout(entry.closeTimer);
    entry.closeTimer = null;
  }
  return { promise, entry };
}

function release(key, entry) {
  if (!entry || stores().get(key) !== entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  // StrictMode and Fast Refresh unmount and mount again at once: close only if nobody came back.
  entry.closeTimer = setTimeout(() => {
    if (entry.users > 0 || stores().get(key) !== entry) return;
    stores().delete(key);
    entry.promise.then((store) => store.close()).catch(() => {});
  }, 0);
}

// ---- status, as an external store -----------------------------------------------------------

/** Shown as soon as the store says so; the others once they have held for `settleMs`. */
const URGENT = new Set(['pending', 'error', 'quota', 'offline', 'copy-error']);
const INITIAL_STATUS = Object.freeze({ ...IDLE, event: null });

/**
 * The store's status events as an external store for `useSyncExternalStore`. `status` is what
 * an indicator shows (`nextStatus`, the rule /zustand's slice follows too): `pending`, `error`,
 * `quota`, `offline` and `copy-error` at once; `saving`, `saved`, `copy-pending` and `backed-up`
 * once they have held for `settleMs` with nothing new, so that typing does not flicker the
 * indicator (and re-render it) three times a keystroke. Holding a state back never claims more
 * than is true: until then the indicator says less (and `backed-up` is left at once).
 */
function createStatusSource(settleMs) {
  let current = INITIAL_STATUS;
  let seen = IDLE;
  let timer = null;
  const listeners = new Set();
  const publish = (next) => {
    current = Object.freeze(next);
    listeners.forEach((listener) => listener());
  };
  return {
    get: () => current,
    getState: () => current.status,
    getMessage: () => current.message,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    /** Follows `store`'s status events; returns the unsubscribe. */
    follow(store) {
      const onStatus = (event) => {
        const next = nextStatus(seen, event);
        if (!next) return publish({ ...current, event }); // news (conflict, remote-update): the state stands
        clearTimeout(timer);
        seen = next;
        const shown = { status: next.status, message: next.message, event };
        // Leaving `backed-up` is at once too: it must not outlive the copy it was about.
        if (URGENT.has(next.status) || current.status === 'backed-up' || settleMs <= 0) publish(shown);
        else timer = setTimeout(() => publish(shown), settleMs);
      };
      const off = store.onStatus(onStatus);
      return () => {
        clearTimeout(timer);
        if (typeof off === 'function') off();
        else store.offStatus(onStatus);
      };
    },
    fail(error) {
      publish({ status: 'error', message: error instanceof Error ? error.message : String(error), event: null });
    },
  };
}

const noStatus = { get: () => INITIAL_STATUS, getState: () => 'idle', getMessage: () => null, subscribe: () => () => {} };

// ---- provider and hooks ---------------------------------------------------------------------

const RecoveryContext = createContext(null);

/**
 * Opens (or adopts) the page's recovery store and gives it to the components and hooks below.
 * Without `store`, the shared store for `options.dbName` is used; given the promise of
 * `openSharedRecoveryStore()`, that same store. A shared store is closed when the last provider
 * using it unmounts (not at a StrictMode or Fast Refresh remount). Any other `store` is the
 * app's to close.
 */
export function RecoveryProvider({ store: given, options, settleMs = 250, children }) {
  const [opened, setOpened] = useState({ store: null, error: null });
  const [status] = useState(() => createStatusSource(settleMs));
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const key = keyOf(options);

  useEffect(() => {
    let live = true;
    let stop = null;
    // A shared store given by the app (openSharedRecoveryStore) is counted like one opened here.
    const shared = given === undefined ? null : [...stores()].find(([, e]) => e.promise === given);
    const { promise, entry } =
      given === undefined ? acquire(optionsRef.current)
      : shared ? acquire({ dbName: shared[0] })
      : { promise: Promise.resolve(given), entry: null };
    const entryKey = shared ? shared[0] : key;
    promise.then(
      (store) => {
        if (!live) return;
        stop = status.follow(store);
        setOpened({ store, error: null });
      },
      (error) => {
        if (!live) return;
        status.fail(error);
        setOpened({ store: null, error });
      },
    );
    return () => {
      live = false;
      stop?.();
      if (entry) release(entryKey, entry);
    };
  }, [given, key, status]);

  const value = useMemo(
    () => ({ store: opened.store, error: opened.error, ready: opened.store !== null, status }),
    [opened, status],
  );
  return h(RecoveryContext.Provider, { value }, children);
}

function useRecoveryContext(hook) {
  const context = useContext(RecoveryContext);
  if (!context) throw new Error(`${hook} must be used inside <RecoveryProvider>`);
  return context;
}

/** `{ store, error, ready }`: the same object until the store opens or fails. */
export function useRecovery() {
  const { store, error, ready } = useRecoveryContext('useRecovery()');
  return useMemo(() => ({ store, error, ready }), [store, error, ready]);
}

/**
 * `{ status, message, event }`: what the indicator shows, and the store's last event; a new
 * object only when the store says something.
 */
export function useSaveStatus() {
  const { status } = useRecoveryContext('useSaveStatus()');
  return useSyncExternalStore(status.subscribe, status.get, status.get);
}

/** Just the indicator's state (a string): renders only when it changes. */
export function useSaveState() {
  const { status } = useRecoveryContext('useSaveState()');
  return useSyncExternalStore(status.subscribe, status.getState, status.getState);
}

// ---- components -----------------------------------------------------------------------------

const cx = (...names) => names.filter(Boolean).join(' ');

export const DEFAULT_LABELS = Object.freeze({
  idle: 'Nothing to save yet',
  waiting: 'Earlier work waiting to be restored',
  pending: 'Unsaved changes…',
  saving: 'Saving…',
  saved: 'Saved on this device',
  error: 'Not saved',
  quota: 'Storage full',
  'copy-pending': 'Saved on this device · backing up…',
  'backed-up': 'Backed up to the server',
  offline: 'Offline: saved on this device, will back up when online',
  'copy-error': 'Server copy failed',
});

/** States whose words the store's message completes (why, and what to do). */
const EXPLAINED = ['error', 'quota', 'copy-error'];

const WAITING_SUFFIX = '; earlier work waiting to be restored';

/**
 * The save indicator: `role="status"`, polite live region, `data-state` = the status (`idle`
 * until the first edit). Takes the provider's status unless `status` is given; `label` turns it
 * into words. `waiting` (sessions on offer for recovery): the idle indicator says earlier work is
 * waiting (`data-state="waiting"`), a saved one says so after "saved"; both `data-waiting`.
 */
export function AutoSaveIndicator({ status, message, label, waiting, className, ...rest }) {
  const context = useContext(RecoveryContext);
  const source = context?.status ?? noStatus;
  // Two primitives, so that an event that changes neither (another `pending` while typing)
  // renders nothing.
  const liveStatus = useSyncExternalStore(source.subscribe, source.getState, source.getState);
  const liveMessage = useSyncExternalStore(source.subscribe, source.getMessage, source.getMessage);
  const state = status ?? liveStatus;
  const said = status === undefined ? liveMessage : (message ?? null);
  const waits = Boolean(waiting) && (state === 'idle' || state === 'saved');
  const shown = waits && state === 'idle' ? 'waiting' : state;
  const base = DEFAULT_LABELS[shown] ?? state;
  const text = label
    ? label(shown, said, waits)
    : // The store's message may already start with the words ("Server copy failed (HTTP 503): …").
      (said && EXPLAINED.includes(state) ? (said.startsWith(base) ? said : `${base}: ${said}`) : base) +
      (waits && state === 'saved' ? WAITING_SUFFIX : '');
  return h(
    'span',
    {
      role: 'status',
      'aria-live': 'polite',
      'data-testid': 'autosave-indicator',
      'data-state': shown,
      'data-waiting': waits ? 'true' : undefined,
      title: typeof text === 'string' ? text : undefined,
      className: cx('cbr-indicator', className),
      ...rest,
    },
    h('span', { className: 'cbr-indicator-dot', 'aria-hidden': 'true' }),
    h('span', { className: 'cbr-indicator-label' }, text),
  );
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The banner: shown while there are sessions to recover; `onOpen` opens the modal. With
 * `checking` (the recovery check is running and, say, `peekSessions()` lists sessions) it shows
 * "Looking for unsaved work…" until `sessions` is known, so it can be part of the first paint.
 */
export function RecoveryBanner({ sessions, onOpen, checking = false, openLabel = 'Review and restore', children, className, ...rest }) {
  const looking = checking && !sessions.length;
  if (!sessions.length && !looking) return null;
  const parts = sessions.reduce((n, s) => n + s.chunkCount, 0);
  const detail = looking
    ? h('strong', null, 'Looking for unsaved work…')
    : (children ?? [
        h('strong', { key: 'title' }, 'Unsaved work was found.'),
        ` ${plural(sessions.length, 'session')} ended without being closed. ` +
          `Text, voice, settings${parts ? ` and ${plural(parts, 'audio part')}` : ''} can be restored.`,
      ]);
  return h(
    'div',
    {
      role: 'alert',
      'aria-busy': looking ? 'true' : undefined,
      'data-testid': 'recovery-banner',
      'data-state': looking ? 'checking' : 'found',
      className: cx('cbr-banner', className),
      ...rest,
    },
    h('p', { className: 'cbr-banner-text' }, detail),
    h(
      'button',
      { type: 'button', className: 'cbr-button cbr-primary', 'data-testid': 'recovery-open', onClick: onOpen, hidden: looking },
      openLabel,
    ),
  );
}

const excerpt = (text, n) => (text.length > n ? `${text.slice(0, n - 1).trimEnd()}…` : text);

function defaultMeta(session) {
  const bits = [plural(session.chunkCount, 'audio part')];
  if (session.audioEvicted) bits.push('audio removed when storage was full');
  bits.push(session.serverToken ? 'server copy kept' : 'no server copy');
  return bits.map((bit) => h('span', { key: bit }, bit));
}

function RecoveryItem({ session, onRestore, onDismiss, meta }) {
  const [busy, setBusy] = useState(false);
  const act = (action) => async () => {
    setBusy(true);
    try {
      await action(session.id);
    } finally {
      setBusy(false);
    }
  };
  return h(
    'li',
    {
      className: 'cbr-item',
      'data-testid': 'recovery-item',
      'data-session-id': session.id,
      'data-chunk-count': String(session.chunkCount),
      'data-server-copy': String(Boolean(session.serverToken)),
    },
    h(
      'div',
      { className: 'cbr-item-main' },
      h('p', { className: 'cbr-excerpt' }, session.text ? excerpt(session.text, 120) : '(no text)'),
      h('p', { className: 'cbr-meta' }, meta(session)),
    ),
    h(
      'div',
      { className: 'cbr-item-actions' },
      h('button', { type: 'button', className: 'cbr-button cbr-primary', 'data-testid': 'recovery-restore', disabled: busy, onClick: act(onRestore) }, 'Restore'),
      h('button', { type: 'button', className: 'cbr-button', 'data-testid': 'recovery-dismiss', disabled: busy, onClick: act(onDismiss) }, 'Dismiss'),
    ),
  );
}

/**
 * The list of sessions to restore or dismiss, in a modal `<dialog>`: the rest of the page is
 * inert while it is open (focus stays inside), Escape and the close button call `onClose`, and
 * focus goes back where it was when it closes. With nothing left to list (the last session
 * restored or dismissed) it closes and calls `onClose`: an empty modal would keep the page inert.
 */
export function RecoveryModal({
  open,
  onClose,
  sessions,
  onRestore,
  onDismiss,
  title = 'Restore your work?',
  description = 'These sessions ended without being closed: the browser crashed, was killed or lost power. ' +
    'Restore brings back the text, voice, settings and every audio part that was saved.',
  meta = defaultMeta,
  className,
  ...rest
}) {
  const ref = useRef(null);
  const returnTo = useRef(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const titleId = useId();
  const descriptionId = useId();
  const empty = sessions.length === 0;
  const shown = open && !empty;

  useEffect(() => {
    if (open && empty) onCloseRef.current();
  }, [open, empty]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return undefined;
    const cancel = (event) => {
      event.preventDefault(); // React state decides; Escape asks to close.
      onCloseRef.current();
    };
    dialog.addEventListener('cancel', cancel);
    return () => dialog.removeEventListener('cancel', cancel);
  }, []);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (shown && !dialog.open) {
      returnTo.current = document.activeElement;
      dialog.showModal();
    } else if (!shown && dialog.open) {
      dialog.close();
      const back = returnTo.current;
      returnTo.current = null;
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    }
  }, [shown]);

  return h(
    'dialog',
    {
      ref,
      className: cx('cbr-modal', className),
      'data-testid': 'recovery-modal',
      'aria-labelledby': titleId,
      'aria-describedby': descriptionId,
      ...rest,
    },
    h(
      'div',
      { className: 'cbr-modal-head' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', className: 'cbr-close', 'aria-label': 'Close', 'data-testid': 'recovery-close', onClick: () => onClose() }, '×'),
    ),
    h('p', { id: descriptionId, className: 'cbr-hint' }, description),
    h(
      'ul',
      { className: 'cbr-items', 'data-testid': 'recovery-items' },
      sessions.map((session) => h(RecoveryItem, { key: session.id, session, onRestore, onDismiss, meta })),
    ),
  );
}
