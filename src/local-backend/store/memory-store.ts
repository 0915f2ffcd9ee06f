import { pageBetween } from './list-pages.ts';
import { MemoryResponseStore } from './memory-response-store.ts';
import { MemoryRunStore } from './memory-run-store.ts';
import { newObjectId } from './object-id.ts';
import {
  type IdempotencyRecord,
  type ListMessagesQuery,
  type ListMessagesResult,
  type NewStoredMessage,
  type NewStoredThread,
  StorageQuotaError,
  type Store,
  type StoredMessage,
  type StoredThread,
  type ThreadPatch,
} from './store.ts';
import { storedBytes as bytesOf, idempotencyBytes } from './stored-bytes.ts';

export interface MemoryStoreOptions {
  /**
   * Most bytes of stored threads, messages and remembered idempotency answers; creates and growing
   * updates past it are refused. Default: no limit (`withQuota` bounds the store the backend uses).
   */
  quotaBytes?: number;
}

/**
 * The local backend's in-memory store: threads, their messages in insertion order, and the
 * `Idempotency-Key` answers. Everything handed out is a copy, so no caller can change what is stored.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #threads = new Map<string, StoredThread>();
  /** Per thread, its messages by id; a Map keeps insertion order, which is the list order. */
  readonly #messages = new Map<string, Map<string, StoredMessage>>();
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  readonly #quotaBytes: number;
  #usedBytes = 0;
  readonly runs = new MemoryRunStore({
    hasThread: (id) => this.#threads.has(id),
    createMessage: (threadId, input) => this.createMessage(threadId, input),
  });
  readonly responses = new MemoryResponseStore({
    hasThread: (id) => this.#threads.has(id),
    createMessage: (threadId, input) => this.createMessage(threadId, input),
  });

  constructor(options: MemoryStoreOptions = {}) {
    this.#quotaBytes = options.quotaBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Threads stored (tests count what a create left behind). */
  get threadCount(): number {
    return this.#threads.size;
  }

  #reserve(bytes: number): void {
    if (bytes > 0 && this.#usedBytes + bytes > this.#quotaBytes) {
      throw new StorageQuotaError('the storage quota is used up');
    }
    this.#usedBytes += bytes;
  }

  #newMessage(threadId: string, input: NewStoredMessage, createdAt: number): StoredMessage {
    return {
      id: input.id ?? newObjectId('msg'),
      object: 'thread.message',
      created_at: input.created_at ?? createdAt,
      thread_id: threadId,
      role: input.role,
      content: structuredClone(input.content),
      attachments: input.attachments ? structuredClone(input.attachments) : null,
      metadata: { ...(input.metadata ?? {}) },
      status: input.incomplete_reason ? 'incomplete' : 'completed',
      incomplete_reason: input.incomplete_reason ?? null,
      assistant_id: input.assistant_id ?? null,
      run_id: input.run_id ?? null,
    };
  }

  async createThread(input: NewStoredThread): Promise<StoredThread> {
    const now = Math.floor(Date.now() / 1000);
    const thread: StoredThread = {
      id: newObjectId('thread'),
      object: 'thread',
      created_at: now,
      metadata: { ...(input.metadata ?? {}) },
      tool_resources: input.tool_resources ? structuredClone(input.tool_resources) : null,
    };
    const messages = (input.messages ?? []).map((message) => this.#newMessage(thread.id, message, now));
    this.#reserve(bytesOf(thread) + messages.reduce((sum, message) => sum + bytesOf(message), 0));
    this.#threads.set(thread.id, thread);
    this.#messages.set(thread.id, new Map(messages.map((message) => [message.id, message])));
    return structuredClone(thread);
  }

  async getThread(id: string): Promise<StoredThread | undefined> {
    const thread = this.#threads.get(id);
    return thread && structuredClone(thread);
  }

  async updateThread(id: string, patch: ThreadPatch): Promise<StoredThread | undefined> {
    const thread = this.#threads.get(id);
    if (!thread) return undefined;
    const after: StoredThread = { ...thread };
    if (patch.metadata !== undefined) after.metadata = { ...(patch.metadata ?? {}) };
    if (patch.tool_resources !== undefined) {
      after.tool_resources = patch.tool_resources ? structuredClone(patch.tool_resources) : null;
    }
    this.#reserve(bytesOf(after) - bytesOf(thread));
    this.#threads.set(id, after);
    return structuredClone(after);
  }

  async deleteThread(id: string): Promise<boolean> {
    const thread = this.#threads.get(id);
    if (!thread) return false;
    let freed = bytesOf(thread);
    for (const message of this.#messages.get(id)?.values() ?? []) freed += bytesOf(message);
    this.#usedBytes -= freed;
    this.runs.dropThread(id);
    this.#messages.delete(id);
    return this.#threads.delete(id);
  }

  async createMessage(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined> {
    const messages = this.#messages.get(threadId);
    if (!messages) return undefined;
    const message = this.#newMessage(threadId, input, Math.floor(Date.now() / 1000));
    this.#reserve(bytesOf(message));
    messages.set(message.id, message);
    return structuredClone(message);
  }

  async getMessage(threadId: string, id: string): Promise<StoredMessage | undefined> {
    const message = this.#messages.get(threadId)?.get(id);
    return message && structuredClone(message);
  }

  async updateMessage(
    threadId: string,
    id: string,
    metadata: Record<string, string>,
  ): Promise<StoredMessage | undefined> {
    const messages = this.#messages.get(threadId);
    const message = messages?.get(id);
    if (!messages || !message) return undefined;
    const after: StoredMessage = { ...message, metadata: { ...metadata } };
    this.#reserve(bytesOf(after) - bytesOf(message));
    messages.set(id, after);
    return structuredClone(after);
  }

  async deleteMessage(threadId: string, id: string): Promise<boolean> {
    const messages = this.#messages.get(threadId);
    const message = messages?.get(id);
    if (!messages || !message) return false;
    this.#usedBytes -= bytesOf(message);
    return messages.delete(id);
  }

  async listMessages(threadId: string, query: ListMessagesQuery): Promise<ListMessagesResult> {
    const messages = this.#messages.get(threadId);
    if (!messages) return { kind: 'no-thread' };
    for (const param of ['after', 'before'] as const) {
      const cursor = query[param];
      if (cursor !== undefined && !messages.has(cursor)) return { kind: 'bad-cursor', param };
    }
    const listed = [...messages.values()].filter((m) => query.run_id === undefined || m.run_id === query.run_id);
    const page = pageBetween(listed, query);
    return { kind: 'ok', data: structuredClone(page.data), has_more: page.has_more };
  }

  async getIdempotency(scopedKey: string): Promise<IdempotencyRecord | undefined> {
    const record = this.#idempotency.get(scopedKey);
    if (record && record.expiresAt <= Date.now()) {
      this.#forgetIdempotency(scopedKey, record);
      return undefined;
    }
    return record && { ...record };
  }

  /** Counted, never refused: the create it remembers is already made (see `withQuota`). */
  async putIdempotency(scopedKey: string, record: IdempotencyRecord): Promise<void> {
    this.#dropExpiredIdempotency();
    const previous = this.#idempotency.get(scopedKey);
    if (previous) this.#forgetIdempotency(scopedKey, previous);
    this.#idempotency.set(scopedKey, { ...record });
    this.#usedBytes += idempotencyBytes(record);
  }

  /** One process holds this store: its own queue per key serialises the creates. */
  async claimIdempotency(): Promise<boolean> {
    return true;
  }

  async releaseIdempotency(): Promise<void> {}

  async usedBytes(): Promise<number> {
    // Expired answers give their bytes back even when no new key arrives to sweep them.
    this.#dropExpiredIdempotency();
    return this.#usedBytes + this.runs.usedBytes + this.responses.usedBytes;
  }

  /** Keys expire in insertion order (one TTL for all): drops the expired ones from the front. */
  #dropExpiredIdempotency(): void {
    const now = Date.now();
    for (const [key, entry] of this.#idempotency) {
      if (entry.expiresAt > now) break;
      this.#forgetIdempotency(key, entry);
    }
  }

  #forgetIdempotency(scopedKey: string, record: IdempotencyRecord): void {
    this.#idempotency.delete(scopedKey);
    this.#usedBytes -= idempotencyBytes(record);
  }

  async close(): Promise<void> {}
}
