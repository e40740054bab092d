//! The TypeScript declarations of the plain objects the JS API takes and
//! returns, added to the generated `.d.ts` (the class itself is declared by
//! wasm-bindgen from `api.rs`).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export interface OpenOptions {
  /** IndexedDB database name; one store per name. Default "chatterbox-recovery". */
  dbName?: string;
  /**
   * How long an edit may wait for more edits before its write starts, ms. Default 0: written at
   * once, and edits made while a write is in flight go together in the next one. Keep it well
   * under 250 ms, the loss window the client promises. (Replaces `debounceMs`/`maxWaitMs`,
   * which are ignored.)
   */
  saveDelayMs?: number;
  /** Liveness heartbeat interval, ms. Default 10000. */
  heartbeatMs?: number;
  /** Sessions older than this are removed at start-up, ms. Default 24 h. */
  retentionMs?: number;
  /** Origin of the recovery API, e.g. "https://tts.example.com" (routes under /api/recovery). */
  apiBaseUrl?: string;
  /**
   * Called before every API request; what it resolves to, if a non-empty string, is sent as the
   * `Authorization` header (e.g. `Bearer <jwt>` for stacks deployed with a JWT issuer).
   */
  authorization?: () => Promise<string | null | undefined> | string | null | undefined;
  /** Identifies this tab; random per page load unless set (tests). */
  tabId?: string;
  /** Flush on visibilitychange/pagehide and mark a clean exit on pagehide. Default true. */
  listenPageEvents?: boolean;
  /**
   * Keep a copy of every session on the server as it changes (opt-in: it sends what the user
   * types to the server). Needs `apiBaseUrl`. At most one document upload per session every 5 s
   * while typing, one more when the page is hidden; each audio part uploaded once. Status events
   * `copy-pending`, `backed-up`, `offline`, `copy-error` report it. Default false.
   */
  serverCopy?: boolean;
}

export interface SessionInput<P = unknown> {
  id: string;
  text?: string;
  voiceId?: string | null;
  /** Any structured-cloneable value: the TTS parameters. */
  params?: P;
}

export interface SessionRecord<P = unknown> {
  id: string;
  createdAt: number;
  updatedAt: number;
  text: string;
  voiceId: string | null;
  params: P | null;
  tabId: string;
  revision: number;
  completed: boolean;
  /** Audio removed to free space; text and params kept. */
  audioEvicted: boolean;
  serverToken: string | null;
  serverTokenExpiresAt: string | null;
  /** Set on a copy kept because another tab overwrote session `conflictOf`. */
  conflictOf: string | null;
  /** Server copy: the parts already uploaded, with their object keys (absent when none). */
  copyParts?: { index: number; mime: string; size: number; key: string }[];
  /** Server copy: the newest revision the server acknowledged (0: none). */
  copiedRevision: number;
}

export type TabState = "own" | "other-tab" | "clean-exit" | "crashed";

export interface SessionSummary<P = unknown> extends SessionRecord<P> {
  state: TabState;
  chunkCount: number;
}

export interface AudioChunk {
  index: number;
  mime: string;
  bytes: ArrayBuffer;
}

export interface RestoredSession<P = unknown> extends SessionRecord<P> {
  /** In index order. */
  chunks: AudioChunk[];
}

export interface WriteResult {
  /** false when storage stayed full even after evicting old audio. */
  stored: boolean;
  /** Sessions whose audio was evicted to make room. */
  evicted: string[];
}

/**
 * `pending`: an edit handed to `autosave` is not committed yet (sent at once); `saving`: a write
 * is in flight; `saved`: everything handed to `autosave` is committed on this device — never sent
 * before (with `serverCopy`, the server copy may still be behind).
 * Server copy (`serverCopy`): `copy-pending`: a copy is on its way to the server; `backed-up`:
 * the server acknowledged a copy of the session's last local commit and of every committed part;
 * `offline`: saved on this device, backed up when the browser is back online; `copy-error`: the
 * copy failed, `message` says when it retries and what to do (the work is saved on this device).
 */
export type SaveStatus =
  | "pending"
  | "saving"
  | "saved"
  | "error"
  | "quota"
  | "conflict"
  | "remote-update"
  | "copy-pending"
  | "backed-up"
  | "offline"
  | "copy-error";

export interface StatusEvent {
  status: SaveStatus;
  sessionIds: string[];
  message: string | null;
  evicted: string[];
}

export interface StorageEstimate {
  usage: number;
  quota: number;
}

export interface Progress {
  phase: "upload" | "download" | "store";
  loaded: number;
  /** 0 when unknown. */
  total: number;
}

export interface BackupOptions {
  /** Token lifetime, 1 s up to the server's maximum (24 h). */
  ttlSeconds?: number;
  filename?: string;
  onProgress?: (progress: Progress) => void;
}

export interface BackupResult {
  token: string;
  expiresAt: string;
  audioUrl: string | null;
  /** Bytes uploaded: the audio and the session document. */
  bytes: number;
}

export interface RecoverOptions {
  /** Use this token instead of the one kept with the session. */
  token?: string;
  /**
   * Restore the caller's server copy of this session id instead (`GET /api/recovery/sessions/{id}`),
   * under a new id if a different local session has it: what `restoreCopy(sessionId)` does.
   */
  copyOf?: string;
  onProgress?: (progress: Progress) => void;
}

/**
 * One of the caller's server copies (`serverCopies()`), as `GET /api/recovery/sessions` lists it
 * (its field names).
 */
export interface ServerCopy {
  session_id: string;
  /** When the copy was last updated (RFC 3339). */
  updated_at: string;
  /** The document's size in bytes, as stored (compressed). */
  size: number;
  /** How many audio parts the copy lists. */
  parts: number;
  /** When the copy's recovery token expires unless the copy is updated again (RFC 3339). */
  expires_at: string;
}

export interface RecoverResult<P = unknown> {
  /**
   * "expired": the server's copy is gone (HTTP 410); local text and params still come back in
   * `session`. "storage-full": downloaded, but this device had no room for the audio.
   */
  audio: "restored" | "expired" | "not-found" | "storage-full";
  /** The session as stored here now: text, voice, params and parts. */
  session: RestoredSession<P> | null;
  evicted: string[];
}
"#;
