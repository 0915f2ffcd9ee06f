import type { MemoryRunStoreHost } from './memory-run-store.ts';
import { newObjectId } from './object-id.ts';
import type {
  CreateResponseResult,
  NewStoredResponse,
  ResponsePatch,
  ResponseRecord,
  ResponseStatus,
  ResponseStore,
  StoredResponse,
} from './response-store.ts';
import type { NewStoredMessage } from './store.ts';

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The responses of a `MemoryStore`; copies in, copies out. */
export class MemoryResponseStore implements ResponseStore {
  readonly #host: MemoryRunStoreHost;
  readonly #responses = new Map<string, ResponseRecord>();
  #bytes = 0;

  constructor(host: MemoryRunStoreHost) {
    this.#host = host;
  }

  /** Bytes of stored responses, counted into the memory store's `usedBytes`. */
  get usedBytes(): number {
    return this.#bytes;
  }

  async createResponse(input: NewStoredResponse): Promise<CreateResponseResult> {
    const { timeoutMs, input: messages, ...settings } = structuredClone(input);
    const conversationId = settings.conversation?.id;
    if (conversationId !== undefined && !this.#host.hasThread(conversationId)) return { kind: 'no-conversation' };
    const now = Date.now();
    const response: StoredResponse = {
      id: newObjectId('resp'),
      object: 'response',
      created_at: Math.floor(now / 1000),
      status: 'queued',
      completed_at: null,
      error: null,
      incomplete_details: null,
      output: [],
      usage: null,
      ...settings,
    };
    const record: ResponseRecord = { response, input: messages, expiresAt: now + timeoutMs };
    if (conversationId !== undefined) {
      for (const message of messages) await this.#host.createMessage(conversationId, message);
    }
    this.#bytes += bytesOf(record);
    this.#responses.set(response.id, record);
    return { kind: 'ok', record: structuredClone(record) };
  }

  async getResponse(id: string): Promise<ResponseRecord | undefined> {
    const record = this.#responses.get(id);
    return record && structuredClone(record);
  }

  async transitionResponse(
    id: string,
    from: readonly ResponseStatus[],
    patch: ResponsePatch,
    items?: NewStoredMessage[],
  ): Promise<ResponseRecord | undefined> {
    const before = this.#responses.get(id);
    if (!before || !from.includes(before.response.status)) return undefined;
    const { expiresAt, ...fields } = structuredClone(patch);
    const after: ResponseRecord = {
      response: { ...before.response, ...fields },
      input: before.input,
      expiresAt: expiresAt === undefined ? before.expiresAt : expiresAt,
    };
    // Written before the first await, so a concurrent transition sees the new status.
    this.#responses.set(id, after);
    this.#bytes += bytesOf(after) - bytesOf(before);
    const conversationId = after.response.conversation?.id;
    if (items && conversationId !== undefined) {
      for (const [index, item] of items.entries()) {
        const message = await this.#host.createMessage(conversationId, item);
        const output = after.response.output[index];
        if (message && output) output.id = message.id;
      }
    }
    return structuredClone(after);
  }

  async responsesInStatus(statuses: readonly ResponseStatus[]): Promise<StoredResponse[]> {
    return structuredClone(
      [...this.#responses.values()].map((record) => record.response).filter((r) => statuses.includes(r.status)),
    );
  }
}
