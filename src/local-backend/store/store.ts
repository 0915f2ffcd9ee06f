import type { ResponseStore } from './response-store.ts';
import type { RunStore } from './run-store.ts';

/**
 * The local backend's storage seam: one interface, with an in-memory store and SQL dialects
 * (SQLite by default, PostgreSQL with DATABASE_URL) behind one typed query layer. Every route
 * family (threads/, conversations/, runs/) speaks only to this interface.
 *
 * Records are stored in the Threads API's wire shapes. Message order is the store's own insertion
 * sequence (a database sequence, never a per-process counter), so it is stable across instances.
 */

export interface StoredThread {
  id: string;
  object: 'thread';
  created_at: number;
  metadata: Record<string, string>;
  tool_resources: Record<string, unknown> | null;
}

export interface StoredMessage {
  id: string;
  object: 'thread.message';
  created_at: number;
  thread_id: string;
  role: string;
  content: unknown[];
  attachments: unknown[] | null;
  metadata: Record<string, string>;
  /** `incomplete` for a run's answer cut short (at `max_completion_tokens`), with its reason. */
  status: 'completed' | 'incomplete';
  /** Why an incomplete message ended (the API's `incomplete_details.reason`); null when complete. */
  incomplete_reason: 'max_tokens' | null;
  assistant_id: string | null;
  run_id: string | null;
}

export interface NewStoredMessage {
  role: string;
  /** Already normalised to parts (a string content becomes one text part before the store). */
  content: unknown[];
  attachments?: unknown[] | null;
  metadata?: Record<string, string> | null;
  /** Set on the messages a run writes (`GET …/messages?run_id=` finds them). */
  assistant_id?: string | null;
  run_id?: string | null;
  /** Set on a run's answer cut short: the message is stored `incomplete` for this reason. */
  incomplete_reason?: 'max_tokens' | null;
  /**
   * Set on a message a run or a response streamed before writing it: the id and time its stream
   * announced (`msg_…`, seconds), so the stored message is the one the stream named.
   */
  id?: string;
  created_at?: number;
}

export interface NewStoredThread {
  metadata?: Record<string, string> | null;
  tool_resources?: Record<string, unknown> | null;
  /** Become the thread's first messages, in this order, in the same transaction. */
  messages?: NewStoredMessage[];
}

export interface ThreadPatch {
  metadata?: Record<string, string> | null;
  tool_resources?: Record<string, unknown> | null;
}

export interface ListMessagesQuery {
  /** 1..100; the store reads limit + 1 to know `has_more`. */
  limit: number;
  order: 'asc' | 'desc';
  /** Message ids; each must name a message of this thread. */
  after?: string;
  before?: string;
  /** Only the messages this run wrote. */
  run_id?: string;
}

export type ListMessagesResult =
  | { kind: 'ok'; data: StoredMessage[]; has_more: boolean }
  | { kind: 'no-thread' }
  /** A cursor that names no message of this thread (the API answers 400). */
  | { kind: 'bad-cursor'; param: 'after' | 'before' };

/** A remembered `Idempotency-Key`: the key's request fingerprint and the object it created. */
export interface IdempotencyRecord {
  fingerprint: string;
  /** The JSON answer that was given for the key. */
  answer: string;
  expiresAt: number;
}

/** Refused because the configured storage quota is used up (the backend answers 4xx). */
export class StorageQuotaError extends Error {
  override name = 'StorageQuotaError';
}

/**
 * The store cannot be reached or cannot write right now (database down, disk full, busy past its
 * timeout). Nothing was changed; the backend answers 503 so the gateway reports it with a code
 * and retries where that is safe.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  /** Runs and assistants, in the same database (store/run-store.ts). */
  readonly runs: RunStore;
  /** Responses (the Responses API), in the same database (store/response-store.ts). */
  readonly responses: ResponseStore;
  createThread(input: NewStoredThread): Promise<StoredThread>;
  getThread(id: string): Promise<StoredThread | undefined>;
  /** Replaces the fields present in the patch, as the API's modify does. */
  updateThread(id: string, patch: ThreadPatch): Promise<StoredThread | undefined>;
  /** Deletes the thread and all its messages. */
  deleteThread(id: string): Promise<boolean>;
  /** undefined when the thread does not exist. */
  createMessage(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined>;
  getMessage(threadId: string, id: string): Promise<StoredMessage | undefined>;
  updateMessage(threadId: string, id: string, metadata: Record<string, string>): Promise<StoredMessage | undefined>;
  deleteMessage(threadId: string, id: string): Promise<boolean>;
  listMessages(threadId: string, query: ListMessagesQuery): Promise<ListMessagesResult>;
  /** Idempotency keys are stored with the data, so a retry after a restart still finds its answer. */
  getIdempotency(scopedKey: string): Promise<IdempotencyRecord | undefined>;
  putIdempotency(scopedKey: string, record: IdempotencyRecord): Promise<void>;
  /**
   * Takes (or renews) the right to create under `scopedKey` for `holder` until `untilMs`, across every
   * process on this store: true when `holder` holds it now, false while another holder's claim runs.
   * A claim that was not renewed lapses, so a holder that died lets the key go. Stores that only one
   * process opens (memory, SQLite) answer true: the process's own queue per key is enough there.
   */
  claimIdempotency(scopedKey: string, holder: string, untilMs: number): Promise<boolean>;
  /** Lets the key go (the holder's claim only). */
  releaseIdempotency(scopedKey: string, holder: string): Promise<void>;
  /**
   * Bytes stored, for the storage quota: threads and messages as JSON (`storedBytes`) and the
   * remembered idempotency answers (`idempotencyBytes`), until they expire.
   */
  usedBytes(): Promise<number>;
  close(): Promise<void>;
}
