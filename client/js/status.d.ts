// Types of status.js, the save indicator's rule that /react and /zustand share. Not an entry
// point of its own: react.d.ts and zustand.d.ts re-export `IndicatorState`, so an app that uses
// one of them needs neither the other nor its peer (React, Zustand).

/**
 * The save state (`conflict` and `remote-update` are news, not states): `idle` until the store
 * reports the first edit (nothing handed over, so nothing saved either). `saved`: on this device.
 * With `serverCopy`, while everything is saved on this device, the server's copy: `copy-pending`
 * (on its way), `backed-up` (the server acknowledged a copy of the last commit; a new edit drops
 * it), `offline` (will back up when online), `copy-error` (the message says what to do).
 */
export type IndicatorState =
  | 'idle'
  | 'pending'
  | 'saving'
  | 'saved'
  | 'error'
  | 'quota'
  | 'copy-pending'
  | 'backed-up'
  | 'offline'
  | 'copy-error';

/** What the indicator shows, with the last event of each copy's kind that still holds. */
export interface IndicatorStatus {
  status: IndicatorState;
  message: string | null;
  local?: { status: IndicatorState; message: string | null } | null;
  copy?: { status: IndicatorState; message: string | null } | null;
}

/** Before the store has said anything: nothing was handed to it, so nothing is saved either. */
export const IDLE: Readonly<{ status: 'idle'; message: null }>;

/**
 * The indicator after a status event, from what it was (`IDLE` first), or `null` for news that
 * changes no state (`conflict`, `remote-update`).
 */
export function nextStatus(
  now: Partial<IndicatorStatus>,
  event: { status: string; message?: string | null },
): IndicatorStatus | null;
