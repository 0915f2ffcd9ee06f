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
import {
  addThreadBytes,
  addUsage,
  bytesOf,
  type Db,
  isStorableId,
  lockThread,
  type SqlAccess,
  seconds,
} from './sql-access.ts';
import { insertMessage, newMessage } from './sql-rows.ts';
import type { NewStoredMessage } from './store.ts';

/**
 * Responses on SQL, beside `SqlStore` and with its lock order (thread row -> message rows -> usage
 * slot; a response row is locked after its conversation's thread row). A response's own bytes count
 * on their own, as an assistant's do; the messages it adds to a conversation count into that
 * thread's `bytes` as any message does.
 */
export class SqlResponseStore implements ResponseStore {
  readonly #deps: SqlAccess;

  constructor(deps: SqlAccess) {
    this.#deps = deps;
  }

  /** Takes the thread's row lock (PostgreSQL) before any message row; false when it is gone. */
  async #lockThread(trx: Db, threadId: string): Promise<boolean> {
    return (await lockThread(this.#deps, trx, threadId)) !== undefined;
  }

  /** Adds messages to a locked thread as `SqlStore` stores them; returns their ids. */
  async #appendMessages(trx: Db, threadId: string, inputs: NewStoredMessage[]): Promise<string[]> {
    const createdAt = seconds(this.#deps);
    let total = 0;
    const ids: string[] = [];
    for (const input of inputs) {
      const message = newMessage(threadId, input, createdAt);
      total += await insertMessage(trx, message);
      ids.push(message.id);
    }
    if (total > 0) {
      await addThreadBytes(trx, threadId, total);
      await addUsage(trx, total);
    }
    return ids;
  }

  createResponse(input: NewStoredResponse): Promise<CreateResponseResult> {
    const { timeoutMs, input: messages, ...settings } = input;
    const conversationId = settings.conversation?.id;
    if (conversationId !== undefined && !isStorableId(conversationId)) {
      return Promise.resolve({ kind: 'no-conversation' });
    }
    const now = this.#deps.now();
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
    const bytes = bytesOf(record);
    return this.#deps.write(async (trx): Promise<CreateResponseResult> => {
      if (conversationId !== undefined) {
        if (!(await this.#lockThread(trx, conversationId))) return { kind: 'no-conversation' };
        await this.#appendMessages(trx, conversationId, messages);
      }
      await trx
        .insertInto('responses')
        .values({
          id: response.id,
          conversation_id: conversationId ?? null,
          status: response.status,
          body: JSON.stringify(response),
          input: JSON.stringify(messages),
          expires_at: record.expiresAt,
          bytes,
        })
        .execute();
      await addUsage(trx, bytes);
      return { kind: 'ok', record };
    });
  }

  getResponse(id: string): Promise<ResponseRecord | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.read(async () => {
      const row = await this.#deps.reader
        .selectFrom('responses')
        .select(['body', 'input', 'expires_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      return (
        row && {
          response: JSON.parse(row.body) as StoredResponse,
          input: JSON.parse(row.input) as NewStoredMessage[],
          expiresAt: row.expires_at === null ? null : Number(row.expires_at),
        }
      );
    });
  }

  transitionResponse(
    id: string,
    from: readonly ResponseStatus[],
    patch: ResponsePatch,
    items?: NewStoredMessage[],
  ): Promise<ResponseRecord | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.write(async (trx) => {
      // The conversation's thread row first (lock order), then the response's own row.
      const conversation = await trx
        .selectFrom('responses')
        .select('conversation_id')
        .where('id', '=', id)
        .executeTakeFirst();
      if (!conversation) return undefined;
      const threadId = conversation.conversation_id;
      const hasThread = items !== undefined && threadId !== null && (await this.#lockThread(trx, threadId));
      const row = await trx
        .selectFrom('responses')
        .select(['body', 'input', 'expires_at', 'bytes'])
        .where('id', '=', id)
        .$if(this.#deps.dialect === 'postgres', (query) => query.forUpdate())
        .executeTakeFirst();
      if (!row) return undefined;
      const before = JSON.parse(row.body) as StoredResponse;
      if (!from.includes(before.status)) return undefined;
      const { expiresAt, ...fields } = patch;
      const after: ResponseRecord = {
        response: { ...before, ...structuredClone(fields) },
        input: JSON.parse(row.input) as NewStoredMessage[],
        expiresAt: expiresAt === undefined ? (row.expires_at === null ? null : Number(row.expires_at)) : expiresAt,
      };
      if (hasThread && items && threadId !== null) {
        const ids = await this.#appendMessages(trx, threadId, items);
        for (const [index, messageId] of ids.entries()) {
          const output = after.response.output[index];
          if (output) output.id = messageId;
        }
      }
      const bytes = bytesOf(after);
      await trx
        .updateTable('responses')
        .set({
          status: after.response.status,
          body: JSON.stringify(after.response),
          expires_at: after.expiresAt,
          bytes,
        })
        .where('id', '=', id)
        .execute();
      await addUsage(trx, bytes - Number(row.bytes));
      return after;
    });
  }

  responsesInStatus(statuses: readonly ResponseStatus[]): Promise<StoredResponse[]> {
    return this.#deps.read(async () => {
      const rows = await this.#deps.reader
        .selectFrom('responses')
        .select('body')
        .where('status', 'in', [...statuses])
        .orderBy('seq')
        .execute();
      return rows.map((row) => JSON.parse(row.body) as StoredResponse);
    });
  }
}
