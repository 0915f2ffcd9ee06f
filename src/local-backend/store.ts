import { randomInt } from 'node:crypto';

/** A thread as the Threads API returns it. */
export interface StoredThread {
  id: string;
  object: 'thread';
  created_at: number;
  metadata: Record<string, string>;
  tool_resources: Record<string, unknown> | null;
}

/** A message stored with its thread (the Messages API is exposed by a later issue). */
export interface StoredMessage {
  id: string;
  object: 'thread.message';
  created_at: number;
  thread_id: string;
  role: 'user' | 'assistant';
  content: unknown[];
  attachments: unknown[] | null;
  metadata: Record<string, string>;
}

export interface NewThread {
  metadata?: Record<string, string> | null;
  tool_resources?: Record<string, unknown> | null;
  messages?: Array<{
    role: 'user' | 'assistant';
    content: string | unknown[];
    attachments?: unknown[] | null;
    metadata?: Record<string, string> | null;
  }>;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `prefix_` followed by 24 letters and digits, as the API's ids are. */
export function newObjectId(prefix: string): string {
  let id = `${prefix}_`;
  for (let i = 0; i < 24; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function toContentParts(content: string | unknown[]): unknown[] {
  if (typeof content !== 'string') return structuredClone(content);
  return [{ type: 'text', text: { value: content, annotations: [] } }];
}

/** The local backend's in-memory state: threads and their messages, nothing else. */
export class ThreadStore {
  readonly #threads = new Map<string, StoredThread>();
  readonly #messages = new Map<string, StoredMessage[]>();

  get size(): number {
    return this.#threads.size;
  }

  create(input: NewThread): StoredThread {
    const now = Math.floor(Date.now() / 1000);
    const thread: StoredThread = {
      id: newObjectId('thread'),
      object: 'thread',
      created_at: now,
      metadata: { ...(input.metadata ?? {}) },
      tool_resources: input.tool_resources ? structuredClone(input.tool_resources) : null,
    };
    this.#threads.set(thread.id, thread);
    this.#messages.set(
      thread.id,
      (input.messages ?? []).map((message) => ({
        id: newObjectId('msg'),
        object: 'thread.message',
        created_at: now,
        thread_id: thread.id,
        role: message.role,
        content: toContentParts(message.content),
        attachments: message.attachments ? structuredClone(message.attachments) : null,
        metadata: { ...(message.metadata ?? {}) },
      })),
    );
    return structuredClone(thread);
  }

  get(id: string): StoredThread | undefined {
    const thread = this.#threads.get(id);
    return thread && structuredClone(thread);
  }

  messages(id: string): StoredMessage[] {
    return structuredClone(this.#messages.get(id) ?? []);
  }

  /** Replaces the fields present in `patch`, as the API's modify does. */
  update(
    id: string,
    patch: { metadata?: Record<string, string> | null; tool_resources?: Record<string, unknown> | null },
  ): StoredThread | undefined {
    const thread = this.#threads.get(id);
    if (!thread) return undefined;
    if (patch.metadata !== undefined) thread.metadata = { ...(patch.metadata ?? {}) };
    if (patch.tool_resources !== undefined) {
      thread.tool_resources = patch.tool_resources ? structuredClone(patch.tool_resources) : null;
    }
    return structuredClone(thread);
  }

  delete(id: string): boolean {
    this.#messages.delete(id);
    return this.#threads.delete(id);
  }
}
