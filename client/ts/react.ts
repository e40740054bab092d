// React bindings: one recovery store per page behind a provider, hooks with stable references,
// and three accessible components (unstyled; `react.css` styles them). Written without JSX, so the
// compiled module needs no JSX runtime of its own.

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
  type ComponentPropsWithoutRef,
  type ReactNode,
} from 'react';
import {
  openRecoveryStore,
  recoveryDbName,
  type OpenRecoveryOptions,
  type RecoveryStore,
  type SessionSummary,
  type StatusEvent,
} from './index.js';
import { IDLE, listen, messageOf, storeStatus, type IndicatorState } from './status.js';

/** The save state: see status.d.ts (one rule for /react and /zustand). */
export type { IndicatorState };

/**
 * What `AutoSaveIndicator` shows (its `data-state`): the save state, or `waiting` while idle with
 * sessions on offer for recovery (its `waiting` prop).
 */
export type IndicatorDisplayState = IndicatorState | 'waiting';

// ---- one store per page ---------------------------------------------------------------------

/** A shared store: its opening, the providers using it, and the close waiting for a remount. */
interface Shared {
  promise: Promise<RecoveryStore>;
  users: number;
  closeTimer?: ReturnType<typeof setTimeout>;
}

// On globalThis, not in a module variable: a hot-module update re-evaluates this module (or the
// app's) and must find the store already open, not open a second one on the same database.
const REGISTRY = Symbol.for('@chatterbox/recovery-client/react/stores');
const stores = (): Map<string, Shared> =>
  ((globalThis as unknown as Record<symbol, Map<string, Shared> | undefined>)[REGISTRY] ??= new Map());
// One store per database: with `user`, that user's own (`recoveryDbName`).
const keyOf = recoveryDbName;

/**
 * The page's recovery store for `options.dbName` and `options.user`: opened on the first call, the
 * same promise after that, across hot module updates too. `RecoveryProvider` closes it when the
 * last provider using it unmounts.
 */
export function openSharedRecoveryStore(options: OpenRecoveryOptions = {}): Promise<RecoveryStore> {
  const key = keyOf(options);
  let entry = stores().get(key);
  if (!entry) {
    entry = { promise: openRecoveryStore(options), users: 0 };
    stores().set(key, entry);
    // A failed open is not cached: the next call tries again.
    entry.promise.catch(() => stores().get(key) === entry && stores().delete(key));
  }
  return entry.promise;
}

function acquire(options?: OpenRecoveryOptions) {
  const promise = openSharedRecoveryStore(options);
  const entry = stores().get(keyOf(options));
  if (entry) {
    entry.users++;
    clearTimeout(entry.closeTimer);
  }
  return { promise, entry };
}

function release(key: string, entry: Shared) {
  if (stores().get(key) !== entry) return;
  if (--entry.users > 0) return;
  // StrictMode and Fast Refresh unmount and mount again at once: close only if nobody came back.
  entry.closeTimer = setTimeout(() => {
    if (entry.users > 0 || stores().get(key) !== entry) return;
    stores().delete(key);
    entry.promise.then((store) => store.close()).catch(() => {});
  }, 0);
}

// ---- status, as an external store -----------------------------------------------------------

export interface SaveStatusSnapshot {
  /** What the indicator shows (see `RecoveryProviderProps.settleMs`). */
  status: IndicatorState;
  /** What the store said with the status. */
  message: string | null;
  /** The last event, `conflict` and `remote-update` included. */
  event: StatusEvent | null;
}

/** Shown as soon as the store says so; the others once they have held for `settleMs`. */
const URGENT: readonly IndicatorState[] = ['pending', 'error', 'quota', 'offline', 'copy-error'];
const INITIAL_STATUS: SaveStatusSnapshot = Object.freeze({ ...IDLE, event: null });

/** The provider's status, read by the hooks and `AutoSaveIndicator` through `useSyncExternalStore`. */
interface StatusView {
  get(): SaveStatusSnapshot;
  getState(): IndicatorState;
  getMessage(): string | null;
  subscribe(listener: () => void): () => void;
}

/**
 * The store's status (its shared source, `storeStatus`: the one /zustand's slice reads too) as an
 * external store for `useSyncExternalStore`. `pending`, `error`, `quota`, `offline` and
 * `copy-error` show at once; `saving`, `saved`, `copy-pending` and `backed-up` once they have held
 * for `settleMs` with nothing new, so that typing does not flicker the indicator (and re-render it)
 * three times a keystroke. Holding a state back never claims more than is true: until then the
 * indicator says less (and `backed-up` is left at once).
 */
function createStatusSource(settleMs: number) {
  let current = INITIAL_STATUS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<() => void>();
  const publish = (next: SaveStatusSnapshot) => {
    current = Object.freeze(next);
    listeners.forEach((listener) => listener());
  };
  return {
    get: () => current,
    getState: () => current.status,
    getMessage: () => current.message,
    subscribe: listen(listeners),
    /** Follows `store`'s status; returns the unsubscribe. */
    follow(store: RecoveryStore) {
      const stop = storeStatus(store).subscribe((next, event) => {
        if (!next) return publish({ ...current, event }); // news (conflict, remote-update): the state stands
        clearTimeout(timer);
        const shown = { status: next.status, message: next.message, event };
        // Leaving `backed-up` is at once too: it must not outlive the copy it was about.
        if (URGENT.includes(next.status) || current.status === 'backed-up' || settleMs <= 0) publish(shown);
        else timer = setTimeout(() => publish(shown), settleMs);
      });
      return () => {
        clearTimeout(timer);
        stop();
      };
    },
    fail(error: unknown) {
      publish({ status: 'error', message: messageOf(error), event: null });
    },
  };
}

/** Outside a provider: a source that follows nothing, so it stays `idle`. */
const noStatus: StatusView = createStatusSource(0);

// ---- provider and hooks ---------------------------------------------------------------------

export interface RecoveryContextValue {
  /** `null` until opened, or if opening failed. */
  store: RecoveryStore | null;
  error: unknown;
  ready: boolean;
}

const RecoveryContext = createContext<{ opened: RecoveryContextValue; status: StatusView } | null>(null);

export interface RecoveryProviderProps {
  /** A store (or a promise of one) the app owns and closes itself. */
  store?: RecoveryStore | Promise<RecoveryStore>;
  /** Without `store`: options of the shared store this provider opens and closes. */
  options?: OpenRecoveryOptions;
  /**
   * How long `saving`, `saved`, `copy-pending` and `backed-up` must hold before the indicator shows them, ms (default 250):
   * typing then renders the indicator once per burst, not three times a keystroke. `pending`,
   * `error`, `quota`, `offline` and `copy-error` show at once, and so does every change from
   * `backed-up`; `saved` and `backed-up` are never shown early.
   */
  settleMs?: number;
  children?: ReactNode;
}

/**
 * Opens (or adopts) the page's recovery store and gives it to the components and hooks below.
 * Without `store`, the shared store for `options.dbName` is used; given the promise of
 * `openSharedRecoveryStore()`, that same store. A shared store is closed when the last provider
 * using it unmounts (not at a StrictMode or Fast Refresh remount). Any other `store` is the
 * app's to close.
 */
export function RecoveryProvider({ store: given, options, settleMs = 250, children }: RecoveryProviderProps): ReactNode {
  // What `useRecovery()` returns: a new object only when the store opens or fails.
  const [opened, setOpened] = useState<RecoveryContextValue>({ store: null, error: null, ready: false });
  const [status] = useState(() => createStatusSource(settleMs));
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const key = keyOf(options);

  useEffect(() => {
    let live = true;
    let stop: (() => void) | undefined;
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
        setOpened({ store, error: null, ready: true });
      },
      (error: unknown) => {
        if (!live) return;
        status.fail(error);
        setOpened({ store: null, error, ready: false });
      },
    );
    return () => {
      live = false;
      stop?.();
      if (entry) release(entryKey, entry);
    };
  }, [given, key, status]);

  const value = useMemo(() => ({ opened, status }), [opened, status]);
  return h(RecoveryContext.Provider, { value }, children);
}

function useRecoveryContext(hook: string) {
  const context = useContext(RecoveryContext);
  if (!context) throw new Error(`${hook} must be used inside <RecoveryProvider>`);
  return context;
}

/** The provider's store, `{ store, error, ready }`: the same object until the store opens or fails. */
export function useRecovery(): RecoveryContextValue {
  return useRecoveryContext('useRecovery()').opened;
}

/**
 * `{ status, message, event }`: what the indicator shows, and the store's last event; a new
 * object only when the store reports something.
 */
export function useSaveStatus(): SaveStatusSnapshot {
  const { status } = useRecoveryContext('useSaveStatus()');
  return useSyncExternalStore(status.subscribe, status.get, status.get);
}

/** Just the indicator's state (a string): a component using it renders only when it changes. */
export function useSaveState(): IndicatorState {
  const { status } = useRecoveryContext('useSaveState()');
  return useSyncExternalStore(status.subscribe, status.getState, status.getState);
}

// ---- components -----------------------------------------------------------------------------

const cx = (...names: (string | undefined)[]) => names.filter(Boolean).join(' ');

/**
 * `idle`: "Nothing to save yet"; `waiting`: "Earlier work waiting to be restored"; `saved`: "Saved on
 * this device"; `backed-up`: "Backed up to the server"… (`error`, `quota` and `copy-error` are
 * followed by the store's message).
 */
export const DEFAULT_LABELS: Readonly<Record<IndicatorDisplayState, string>> = Object.freeze({
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
const EXPLAINED: readonly IndicatorState[] = ['error', 'quota', 'copy-error'];

const WAITING_SUFFIX = '; earlier work waiting to be restored';

export interface AutoSaveIndicatorProps extends Omit<ComponentPropsWithoutRef<'span'>, 'children'> {
  /** Shown instead of the provider's status. */
  status?: IndicatorState;
  message?: string | null;
  /**
   * Sessions are on offer for recovery (a count, or `true`): the idle indicator then says earlier
   * work is waiting to be restored (`data-state="waiting"`) instead of "Nothing to save yet", and a
   * saved one adds it after "Saved on this device"; both carry `data-waiting="true"`.
   */
  waiting?: number | boolean;
  /**
   * Words for what is shown; default `DEFAULT_LABELS` and the store's message. `waiting`: the
   * `waiting` prop applies (the state is `waiting`, or `saved` with work on offer).
   */
  label?: (status: IndicatorDisplayState, message: string | null, waiting: boolean) => ReactNode;
}

/**
 * The save indicator: `role="status"`, polite live region, `data-state` = the status (`idle`
 * until the first edit). Takes the provider's status unless `status` is given; `label` turns it
 * into words. `waiting` (sessions on offer for recovery): the idle indicator says earlier work is
 * waiting (`data-state="waiting"`), a saved one says so after "saved"; both `data-waiting`.
 */
export function AutoSaveIndicator({ status, message, label, waiting, className, ...rest }: AutoSaveIndicatorProps): ReactNode {
  const context = useContext(RecoveryContext);
  const source = context?.status ?? noStatus;
  // Two primitives, so that an event that changes neither (another `pending` while typing)
  // renders nothing.
  const liveStatus = useSyncExternalStore(source.subscribe, source.getState, source.getState);
  const liveMessage = useSyncExternalStore(source.subscribe, source.getMessage, source.getMessage);
  const state = status ?? liveStatus;
  const said = status === undefined ? liveMessage : (message ?? null);
  const waits = Boolean(waiting) && (state === 'idle' || state === 'saved');
  const shown: IndicatorDisplayState = waits && state === 'idle' ? 'waiting' : state;
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the banner and modal need of a session. */
export type RecoverableSession = Pick<SessionSummary, 'id' | 'text' | 'chunkCount' | 'serverToken' | 'audioEvicted'>;

export interface RecoveryBannerProps extends Omit<ComponentPropsWithoutRef<'div'>, 'children'> {
  sessions: readonly RecoverableSession[];
  onOpen: () => void;
  /**
   * The recovery check is running and may find something (e.g. `peekSessions()` lists
   * sessions): until `sessions` has some, show "Looking for unsaved work…" without the button.
   */
  checking?: boolean;
  openLabel?: ReactNode;
  /** Replaces the default text. */
  children?: ReactNode;
}

/**
 * The banner: shown while there are sessions to recover (or while `checking`); `onOpen` opens the
 * modal; `data-state` is `checking` or `found`. With `checking` (the recovery check is running
 * and, say, `peekSessions()` lists sessions) it shows "Looking for unsaved work…" until `sessions`
 * is known, so it can be part of the first paint.
 */
export function RecoveryBanner({
  sessions,
  onOpen,
  checking = false,
  openLabel = 'Review and restore',
  children,
  className,
  ...rest
}: RecoveryBannerProps): ReactNode {
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

const excerpt = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1).trimEnd()}…` : text);

function defaultMeta(session: RecoverableSession): ReactNode {
  const bits = [plural(session.chunkCount, 'audio part')];
  if (session.audioEvicted) bits.push('audio removed when storage was full');
  bits.push(session.serverToken ? 'server copy kept' : 'no server copy');
  return bits.map((bit) => h('span', { key: bit }, bit));
}

interface RecoveryItemProps<S extends RecoverableSession> {
  session: S;
  onRestore: (id: string) => unknown;
  onDismiss: (id: string) => unknown;
  meta: (session: S) => ReactNode;
}

function RecoveryItem<S extends RecoverableSession>({ session, onRestore, onDismiss, meta }: RecoveryItemProps<S>): ReactNode {
  const [busy, setBusy] = useState(false);
  const act = (action: (id: string) => unknown) => async () => {
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

export interface RecoveryModalProps<S extends RecoverableSession = RecoverableSession>
  extends Omit<ComponentPropsWithoutRef<'dialog'>, 'children' | 'open' | 'onClose' | 'title'> {
  /** Shown while `open` and `sessions` is not empty. */
  open: boolean;
  /** Escape, the close button, and the last session gone from `sessions` while open. */
  onClose: () => void;
  sessions: readonly S[];
  onRestore: (id: string) => unknown;
  onDismiss: (id: string) => unknown;
  title?: ReactNode;
  description?: ReactNode;
  /** The line under each excerpt. */
  meta?: (session: S) => ReactNode;
}

/**
 * The list of sessions to restore or dismiss, in a modal `<dialog>`: the rest of the page is
 * inert while it is open (focus stays inside), Escape and the close button call `onClose`, and
 * focus goes back where it was when it closes. With nothing left to list (the last session
 * restored or dismissed) it closes and calls `onClose`: an empty modal would keep the page inert.
 */
export function RecoveryModal<S extends RecoverableSession>({
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
}: RecoveryModalProps<S>): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<Element | null>(null);
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
    const cancel = (event: Event) => {
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
      sessions.map((session) => h(RecoveryItem<S>, { key: session.id, session, onRestore, onDismiss, meta })),
    ),
  );
}
