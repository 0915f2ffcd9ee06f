import type { StoreConfig } from '../../config/config.ts';
import type { GatewayDatabaseOptions } from '../gateway-store/open-gateway-database.ts';
import { MemoryThreadIndex } from './memory-thread-index.ts';
import { openSqlThreadIndex } from './sql-thread-index.ts';
import type { ThreadIndex, ThreadIndexEntry, ThreadIndexQuery } from './thread-index.ts';

/** The index the store configuration names: SQLite in DATA_DIR, PostgreSQL with DATABASE_URL, or memory. */
export async function openThreadIndex(store: StoreConfig, options: GatewayDatabaseOptions = {}): Promise<ThreadIndex> {
  return (await openSqlThreadIndex(store, options)) ?? new MemoryThreadIndex();
}

/**
 * The index opened on first use: a gateway that never lists, creates or adopts a thread opens
 * nothing. A failed open is tried again by the next use.
 */
export class LazyThreadIndex implements ThreadIndex {
  readonly #open: () => Promise<ThreadIndex>;
  #opening: Promise<ThreadIndex> | undefined;
  #closed = false;

  constructor(
    readonly kind: ThreadIndex['kind'],
    open: () => Promise<ThreadIndex>,
  ) {
    this.#open = open;
  }

  #index(): Promise<ThreadIndex> {
    if (this.#closed) return Promise.reject(new Error('The thread index is closed.'));
    if (!this.#opening) {
      this.#opening = this.#open();
      this.#opening.catch(() => {
        this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  add = (callerId: string, entry: ThreadIndexEntry, maxEntries: number) =>
    this.#index().then((index) => index.add(callerId, entry, maxEntries));
  addMany = (callerId: string, entries: readonly ThreadIndexEntry[]) =>
    this.#index().then((index) => index.addMany(callerId, entries));
  updateMetadata = (threadId: string, metadata: Record<string, string>) =>
    this.#index().then((index) => index.updateMetadata(threadId, metadata));
  removeThread = (threadId: string) => this.#index().then((index) => index.removeThread(threadId));
  forget = (callerId: string, threadId: string) => this.#index().then((index) => index.forget(callerId, threadId));
  list = (callerId: string, query: ThreadIndexQuery) => this.#index().then((index) => index.list(callerId, query));
  count = (callerId: string, metadata: Record<string, string>) =>
    this.#index().then((index) => index.count(callerId, metadata));

  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening) await (await opening.catch(() => undefined))?.close();
  }
}
