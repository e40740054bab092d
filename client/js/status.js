// What a save indicator shows, from the store's status events: one rule for /react and /zustand
// (each used to keep its own list of states). Two copies are told apart: this device's (`pending`,
// `saving`, `saved`, `error`, `quota`) and, with `serverCopy`, the server's (`copy-pending`,
// `backed-up`, `offline`, `copy-error`). The server's is shown only while everything is saved on
// this device, and a new local event drops a `copy-pending` or `backed-up` it no longer covers:
// `backed-up` is shown only when the store's last word after the last local commit said so.
// `offline` and `copy-error` stay true across local saves until the copy says otherwise.
const LOCAL = ['pending', 'saving', 'saved', 'error', 'quota'];
const STICKY = ['offline', 'copy-error'];
const COPY = ['copy-pending', 'backed-up', ...STICKY];

/** Before the store has said anything: nothing was handed to it, so nothing is saved either. */
export const IDLE = Object.freeze({ status: 'idle', message: null });

/**
 * The indicator after `event`, from what it was (`IDLE` first): `{ status, message, local, copy }`
 * (`local` and `copy`: the last event of each kind that still holds, absent before any), or `null`
 * for news that changes no state (`conflict`, `remote-update`).
 */
export function nextStatus(now, { status, message = null }) {
  let { local, copy } = now;
  if (LOCAL.includes(status)) {
    local = { status, message };
    // `backed-up` and `copy-pending` were about an older commit; offline or failing, still so.
    if (!STICKY.includes(copy?.status)) copy = null;
  } else if (COPY.includes(status)) {
    copy = { status, message };
  } else {
    return null;
  }
  return { ...(local?.status === 'saved' && copy ? copy : (local ?? IDLE)), local, copy };
}
