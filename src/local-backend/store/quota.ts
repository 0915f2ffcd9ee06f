import { withRunQuota } from './run-store-wrappers.ts';
import { type NewStoredMessage, type NewStoredThread, StorageQuotaError, type Store } from './store.ts';

/**
 * A store that refuses creates once `maxBytes` of content is stored (the backend answers 4xx).
 * Reads, updates and deletes go through, so an operator can always free space. Concurrent creates
 * check before they write, so the total can pass the quota by at most what those requests carry,
 * which the body limit bounds.
 */
export function withQuota(store: Store, maxBytes: number): Store {
  async function check(input: unknown): Promise<void> {
    const used = await store.usedBytes();
    if (used + Buffer.byteLength(JSON.stringify(input)) > maxBytes) {
      throw new StorageQuotaError(`The local backend's storage quota (${maxBytes} bytes) is used up`);
    }
  }
  return {
    kind: store.kind,
    runs: withRunQuota(store.runs, check),
    async createThread(input: NewStoredThread) {
      await check(input);
      return store.createThread(input);
    },
    async createMessage(threadId: string, input: NewStoredMessage) {
      await check(input);
      return store.createMessage(threadId, input);
    },
    getThread: (id) => store.getThread(id),
    updateThread: (id, patch) => store.updateThread(id, patch),
    deleteThread: (id) => store.deleteThread(id),
    getMessage: (threadId, id) => store.getMessage(threadId, id),
    updateMessage: (threadId, id, metadata) => store.updateMessage(threadId, id, metadata),
    deleteMessage: (threadId, id) => store.deleteMessage(threadId, id),
    listMessages: (threadId, query) => store.listMessages(threadId, query),
    getIdempotency: (key) => store.getIdempotency(key),
    putIdempotency: (key, record) => store.putIdempotency(key, record),
    usedBytes: () => store.usedBytes(),
    close: () => store.close(),
  };
}
