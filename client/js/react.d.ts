import type { ComponentPropsWithoutRef, ReactNode } from 'react';
import type { OpenRecoveryOptions, RecoveryStore, SessionSummary, StatusEvent } from './index.js';
import type { IndicatorState } from './status.js';

/** The save state: see status.d.ts (one rule for /react and /zustand). */
export type { IndicatorState };

/**
 * What `AutoSaveIndicator` shows (its `data-state`): the save state, or `waiting` while idle with
 * sessions on offer for recovery (its `waiting` prop).
 */
export type IndicatorDisplayState = IndicatorState | 'waiting';

/**
 * The page's recovery store for `options.dbName` and `options.user`: opened on the first call, the same promise
 * after that, across hot module updates too. Closed when the last `RecoveryProvider` using it
 * unmounts.
 */
export function openSharedRecoveryStore(options?: OpenRecoveryOptions): Promise<RecoveryStore>;

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

export function RecoveryProvider(props: RecoveryProviderProps): ReactNode;

export interface RecoveryContextValue {
  /** `null` until opened, or if opening failed. */
  store: RecoveryStore | null;
  error: unknown;
  ready: boolean;
}

/** The provider's store: the same object until it opens or fails. */
export function useRecovery(): RecoveryContextValue;

export interface SaveStatusSnapshot {
  /** What the indicator shows (see `RecoveryProviderProps.settleMs`). */
  status: IndicatorState;
  /** What the store said with the status. */
  message: string | null;
  /** The last event, `conflict` and `remote-update` included. */
  event: StatusEvent | null;
}

/** The indicator's state and the last event: a new object only when the store reports something. */
export function useSaveStatus(): SaveStatusSnapshot;

/** Just the indicator's state: a component using it renders only when the state changes. */
export function useSaveState(): IndicatorState;

/**
 * `idle`: "Nothing to save yet"; `waiting`: "Earlier work waiting to be restored"; `saved`: "Saved on
 * this device"; `backed-up`: "Backed up to the server"… (`error`, `quota` and `copy-error` are
 * followed by the store's message).
 */
export const DEFAULT_LABELS: Readonly<Record<IndicatorDisplayState, string>>;

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

export function AutoSaveIndicator(props: AutoSaveIndicatorProps): ReactNode;

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

/** Shown while `sessions` is not empty (or while `checking`); `data-state` is `checking` or `found`. */
export function RecoveryBanner(props: RecoveryBannerProps): ReactNode;

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

export function RecoveryModal<S extends RecoverableSession>(props: RecoveryModalProps<S>): ReactNode;
