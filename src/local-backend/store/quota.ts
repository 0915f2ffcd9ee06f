import { withResponseQuota } from './response-store-wrappers.ts';
import { withRunQuota } from './run-store-wrappers.ts';
import {
  type NewStoredMessage,
  type NewStoredThread,
  StorageQuotaError,
  type Store,
  type StoredMessage,
  type StoredThread,
  type ThreadPatch,
} from './store.ts';
import { storedBytes } from './stored-bytes.ts';

/** Stands in for an id the store will draw: ids are `prefix_` and 24 characters, so the size is exact. */
const ID_BODY = 'x'.repeat(24);

/** The bytes a create will store, counted as the store counts them (see `storedBytes`). */
function messageBytes(threadId: string, input: NewStoredMessage, createdAt: number): number {
  const message: StoredMessage = {
    id: `msg_${ID_BODY}`,
    object: 'thread.message',
    created_at: createdAt,
    thread_id: threadId,
    role: input.role,
    content: input.content,
    attachments: input.attachments ?? null,
    metadata: input.metadata ?? {},
    status: 'completed',
    incomplete_reason: null,
    assistant_id: null,
    run_id: null,
  };
  return storedBytes(message);
}

function threadBytes(input: NewStoredThread, createdAt: number): number {
  const id = `thread_${ID_BODY}`;
  const thread: StoredThread = {
    id,
    object: 'thread',
    created_at: createdAt,
    metadata: input.metadata ?? {},
    tool_resources: input.tool_resources ?? null,
  };
  return (input.messages ?? []).reduce(
    (sum, message) => sum + messageBytes(id, message, createdAt),
    storedBytes(thread),
  );
}

const seconds = () => Math.floor(Date.now() / 1000);

/**
 * A store that refuses every write that would grow what is stored past `maxBytes` (the backend
 * answers 429 `storage_quota`): creates, and updates that make an object larger. Reads, deletes and
 * updates that shrink go through, so an operator can always free space, and a delete gives its
 * bytes back.
 *
 * Remembered `Idempotency-Key` answers count too (the stores add them to `usedBytes`), but are
 * never refused: the create they remember has already been made, and forgetting its answer would
 * let a retry make it twice. A full quota refuses the next create instead.
 *
 * Concurrent writes check before they write, so the total can pass the quota by at most what those
 * requests carry (and the answers they remember), which the body limit bounds.
 */
export function withQuota(store: Store, maxBytes: number): Store {
  async function check(growth: number): Promise<void> {
    if (growth <= 0) return;
    const used = await store.usedBytes();
    if (used + growth > maxBytes) {
      throw new StorageQuotaError(`The local backend's storage quota (${maxBytes} bytes) is used up`);
    }
  }
  return {
    kind: store.kind,
    runs: withRunQuota(store.runs, check),
    responses: withResponseQuota(store.responses, check),
    async createThread(input: NewStoredThread) {
      await check(threadBytes(input, seconds()));
      return store.createThread(input);
    },
    async createMessage(threadId: string, input: NewStoredMessage) {
      await check(messageBytes(threadId, input, seconds()));
      return store.createMessage(threadId, input);
    },
    async updateThread(id: string, patch: ThreadPatch) {
      const before = await store.getThread(id);
      if (!before) return undefined;
      const after: StoredThread = { ...before };
      if (patch.metadata !== undefined) after.metadata = { ...(patch.metadata ?? {}) };
      if (patch.tool_resources !== undefined) after.tool_resources = patch.tool_resources ?? null;
      await check(storedBytes(after) - storedBytes(before));
      return store.updateThread(id, patch);
    },
    async updateMessage(threadId: string, id: string, metadata: Record<string, string>) {
      const before = await store.getMessage(threadId, id);
      if (!before) return undefined;
      await check(storedBytes({ ...before, metadata }) - storedBytes(before));
      return store.updateMessage(threadId, id, metadata);
    },
    getThread: (id) => store.getThread(id),
    deleteThread: (id) => store.deleteThread(id),
    getMessage: (threadId, id) => store.getMessage(threadId, id),
    deleteMessage: (threadId, id) => store.deleteMessage(threadId, id),
    listMessages: (threadId, query) => store.listMessages(threadId, query),
    getIdempotency: (key) => store.getIdempotency(key),
    putIdempotency: (key, record) => store.putIdempotency(key, record),
    claimIdempotency: (key, holder, untilMs) => store.claimIdempotency(key, holder, untilMs),
    releaseIdempotency: (key, holder) => store.releaseIdempotency(key, holder),
    usedBytes: () => store.usedBytes(),
    close: () => store.close(),
  };
}
