import type { MessageOrder } from '../../domain/message-pagination.ts';

/**
 * Each caller's list of threads ("My threads", docs/viewer.md): per caller, the thread id, its
 * created-at and a copy of its metadata for filtering. The list never depends on the upstream: it
 * is the gateway's own, in the gateway's store (memory, SQLite in DATA_DIR, PostgreSQL with
 * DATABASE_URL). Every read and write names one caller and touches that caller's entries only,
 * except the upstream's own changes to a thread (update, delete), which reach every list holding it.
 */

/** Where an entry sits: newest first is created-at descending, then thread id descending. */
export interface ThreadIndexPosition {
  createdAt: number;
  threadId: string;
}

export interface ThreadIndexEntry extends ThreadIndexPosition {
  metadata: Record<string, string>;
}

export interface ThreadIndexQuery {
  /** Exact matches, all of which must hold; `{}` for none. */
  metadata: Record<string, string>;
  /** The order of this read (a backward page reads the other way). */
  order: MessageOrder;
  /** Entries strictly after this one in `order`. */
  after?: ThreadIndexPosition;
  limit: number;
}

/** What adding an entry did: `full` when the caller's list holds `maxEntries` already. */
export type ThreadIndexAdd = 'added' | 'present' | 'full';

export interface ThreadIndex {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  add(callerId: string, entry: ThreadIndexEntry, maxEntries: number): Promise<ThreadIndexAdd>;
  /** Many entries at once, for seeding (no bound, no check): tests and imports. */
  addMany(callerId: string, entries: readonly ThreadIndexEntry[]): Promise<void>;
  /** The thread's metadata changed upstream: every list's copy follows. */
  updateMetadata(threadId: string, metadata: Record<string, string>): Promise<void>;
  /** The thread was deleted upstream: off every list. */
  removeThread(threadId: string): Promise<void>;
  /** Off this caller's list; false when it was not on it. */
  forget(callerId: string, threadId: string): Promise<boolean>;
  list(callerId: string, query: ThreadIndexQuery): Promise<ThreadIndexPosition[]>;
  count(callerId: string, metadata: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/** `a` before `b` newest first (created-at, then id, both descending)? Negative when so. */
export function compareNewestFirst(a: ThreadIndexPosition, b: ThreadIndexPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.threadId < b.threadId ? 1 : a.threadId > b.threadId ? -1 : 0;
}

export function matchesMetadata(entry: Record<string, string>, filter: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(filter)) if (entry[key] !== value) return false;
  return true;
}
