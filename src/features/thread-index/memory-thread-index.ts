import {
  compareNewestFirst,
  matchesMetadata,
  type ThreadIndex,
  type ThreadIndexAdd,
  type ThreadIndexEntry,
  type ThreadIndexPosition,
  type ThreadIndexQuery,
} from './thread-index.ts';

/** The lists in process memory (LOCAL_BACKEND_STORE=memory, tests): lost on exit, one instance only. */
export class MemoryThreadIndex implements ThreadIndex {
  readonly kind = 'memory' as const;
  readonly #lists = new Map<string, Map<string, ThreadIndexEntry>>();

  #list(callerId: string): Map<string, ThreadIndexEntry> {
    let list = this.#lists.get(callerId);
    if (!list) {
      list = new Map();
      this.#lists.set(callerId, list);
    }
    return list;
  }

  async add(callerId: string, entry: ThreadIndexEntry, maxEntries: number): Promise<ThreadIndexAdd> {
    const list = this.#list(callerId);
    if (list.has(entry.threadId)) return 'present';
    if (list.size >= maxEntries) return 'full';
    list.set(entry.threadId, { ...entry, metadata: { ...entry.metadata } });
    return 'added';
  }

  async addMany(callerId: string, entries: readonly ThreadIndexEntry[]): Promise<void> {
    const list = this.#list(callerId);
    for (const entry of entries) list.set(entry.threadId, { ...entry, metadata: { ...entry.metadata } });
  }

  async updateMetadata(threadId: string, metadata: Record<string, string>): Promise<void> {
    for (const list of this.#lists.values()) {
      const entry = list.get(threadId);
      if (entry) entry.metadata = { ...metadata };
    }
  }

  async removeThread(threadId: string): Promise<void> {
    for (const list of this.#lists.values()) list.delete(threadId);
  }

  async forget(callerId: string, threadId: string): Promise<boolean> {
    return this.#lists.get(callerId)?.delete(threadId) ?? false;
  }

  async list(callerId: string, query: ThreadIndexQuery): Promise<ThreadIndexPosition[]> {
    const sign = query.order === 'desc' ? 1 : -1;
    const after = query.after;
    return [...(this.#lists.get(callerId)?.values() ?? [])]
      .filter((entry) => matchesMetadata(entry.metadata, query.metadata))
      .filter((entry) => after === undefined || sign * compareNewestFirst(entry, after) > 0)
      .sort((a, b) => sign * compareNewestFirst(a, b))
      .slice(0, query.limit)
      .map(({ createdAt, threadId }) => ({ createdAt, threadId }));
  }

  async count(callerId: string, metadata: Record<string, string>): Promise<number> {
    let count = 0;
    for (const entry of this.#lists.get(callerId)?.values() ?? []) {
      if (matchesMetadata(entry.metadata, metadata)) count += 1;
    }
    return count;
  }

  async close(): Promise<void> {}
}
