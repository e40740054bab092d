// What a save indicator shows, from the store's status events: the one list of indicator states,
// the rule that /react, /zustand and the plain demo follow, and the one subscription to a store's
// status that /react (the provider, `AutoSaveIndicator`) and /zustand (the slice) both read. Not an
// entry point of its own: react.d.ts and zustand.d.ts re-export `IndicatorState`, so an app that
// uses one of them needs neither the other nor its peer (React, Zustand).
//
// Two copies are told apart: this device's (`pending`, `saving`, `saved`, `error`, `quota`) and,
// with `serverCopy`, the server's (`copy-pending`, `backed-up`, `offline`, `copy-error`). The
// server's is shown only while everything is saved on this device, and a new local event drops a
// `copy-pending` or `backed-up` it no longer covers: `backed-up` is shown only when the store's last
// word after the last local commit said so. `offline` and `copy-error` stay true across local saves
// until the copy says otherwise.

import type { RecoveryStore, SaveStatus, StatusEvent } from '../pkg/chatterbox_recovery_client.js';

const LOCAL = ['pending', 'saving', 'saved', 'error', 'quota'] as const satisfies readonly SaveStatus[];
const STICKY = ['offline', 'copy-error'] as const satisfies readonly SaveStatus[];
const COPY = ['copy-pending', 'backed-up', ...STICKY] as const satisfies readonly SaveStatus[];

/**
 * The save state (`conflict` and `remote-update` are news, not states): `idle` until the store
 * reports the first edit (nothing handed over, so nothing saved either). `saved`: on this device.
 * With `serverCopy`, while everything is saved on this device, the server's copy: `copy-pending`
 * (on its way), `backed-up` (the server acknowledged a copy of the last commit; a new edit drops
 * it), `offline` (will back up when online), `copy-error` (the message says what to do).
 */
export type IndicatorState = 'idle' | (typeof LOCAL)[number] | (typeof COPY)[number];

/** What the indicator shows, with the last event of each copy's kind that still holds. */
export interface IndicatorStatus {
  status: IndicatorState;
  message: string | null;
  local?: { status: IndicatorState; message: string | null } | null;
  copy?: { status: IndicatorState; message: string | null } | null;
}

/** Before the store has said anything: nothing was handed to it, so nothing is saved either. */
export const IDLE: Readonly<{ status: 'idle'; message: null }> = Object.freeze({ status: 'idle', message: null });

/**
 * The indicator after a status event, from what it was (`IDLE` first): `{ status, message, local,
 * copy }` (`local` and `copy`: the last event of each kind that still holds, absent until one came), or
 * `null` for news that changes no state (`conflict`, `remote-update`).
 */
export function nextStatus(
  now: Partial<IndicatorStatus>,
  { status, message = null }: { status: string; message?: string | null },
): IndicatorStatus | null {
  let { local, copy } = now;
  // (Widened for the look-up only: `status` is any string here, the lists are of states.)
  if ((LOCAL as readonly string[]).includes(status)) {
    local = { status: status as IndicatorState, message };
    // `backed-up` and `copy-pending` were about an older commit; offline or failing, still so.
    if (!(STICKY as readonly unknown[]).includes(copy?.status)) copy = null;
  } else if ((COPY as readonly string[]).includes(status)) {
    copy = { status: status as IndicatorState, message };
  } else {
    return null;
  }
  return { ...(local?.status === 'saved' && copy ? copy : (local ?? IDLE)), local, copy };
}

/** Told each status event with the indicator after it (`null`: news, the state stands). */
export type StatusListener = (next: IndicatorStatus | null, event: StatusEvent) => void;

/** One store's status, followed once however many read it. */
export interface StoreStatus {
  /** Follows the store's status events; returns the unsubscribe. */
  subscribe(listener: StatusListener): () => void;
  /**
   * An event the store could not send itself, told to every reader as if it had: a snapshot
   * `autosave()` refused by throwing, reported as `error`.
   */
  report(event: StatusEvent): void;
}

/** A listener registry's `subscribe`: adds `listener` to `listeners`, returns its removal. */
export const listen =
  <L>(listeners: Set<L>) =>
  (listener: L) => (listeners.add(listener), () => void listeners.delete(listener));

/** What a failure says, for a status message or the slice's `error`. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const followed = new WeakMap<RecoveryStore, StoreStatus>();

/**
 * The status source of `store`, shared by /react and /zustand: one `onStatus` subscription while
 * anyone follows it (none otherwise), one `nextStatus` state, so the provider's indicator and the
 * slice's `status` cannot disagree. Internal to the package (status.js is no entry point).
 */
export function storeStatus(store: RecoveryStore): StoreStatus {
  let source = followed.get(store);
  if (!source) {
    let now: Partial<IndicatorStatus> = IDLE;
    let off: () => void;
    const listeners = new Set<StatusListener>();
    const report = (event: StatusEvent) => {
      const next = nextStatus(now, event);
      if (next) now = next;
      listeners.forEach((listener) => listener(next, event));
    };
    source = {
      report,
      subscribe(listener) {
        if (!listeners.size) off = store.onStatus(report);
        listeners.add(listener);
        return () => {
          // The last reader gone: the store is let go, and what it said with it (events go unseen now).
          if (listeners.delete(listener) && !listeners.size) {
            off();
            now = IDLE;
          }
        };
      },
    };
    followed.set(store, source);
  }
  return source;
}
