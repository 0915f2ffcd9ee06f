import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
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
import type { SqlRunStoreDeps } from './sql-run-store.ts';
import { USAGE_SLOTS } from './sql-schema.ts';
import type { NewStoredMessage, StoredMessage } from './store.ts';
import { storedBytes } from './stored-bytes.ts';

type Db = Parameters<Parameters<SqlRunStoreDeps['write']>[0]>[0];

function isStorableId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * Responses on SQL, beside `SqlStore` and with its lock order (thread row -> message rows -> usage
 * slot; a response row is locked after its conversation's thread row). A response's own bytes count
 * on their own, as an assistant's do; the messages it adds to a conversation count into that
 * thread's `bytes` as any message does.
 */
export class SqlResponseStore implements ResponseStore {
  readonly #deps: SqlRunStoreDeps;

  constructor(deps: SqlRunStoreDeps) {
    this.#deps = deps;
  }

  async #addUsage(trx: Db, bytes: number): Promise<void> {
    if (bytes === 0) return;
    await trx
      .updateTable('storage_usage')
      .set({ bytes: sql`bytes + ${bytes}` })
      .where('slot', '=', randomInt(USAGE_SLOTS))
      .execute();
  }

  /** Takes the thread's row lock (PostgreSQL) before any message row; false when it is gone. */
  async #lockThread(trx: Db, threadId: string): Promise<boolean> {
    const row = await trx
      .selectFrom('threads')
      .select('id')
      .where('id', '=', threadId)
      .$if(this.#deps.dialect === 'postgres', (query) => query.forUpdate())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Adds messages to a locked thread as `SqlStore` stores them; returns their ids. */
  async #appendMessages(trx: Db, threadId: string, inputs: NewStoredMessage[]): Promise<string[]> {
    const createdAt = Math.floor(this.#deps.now() / 1000);
    let total = 0;
    const ids: string[] = [];
    for (const input of inputs) {
      const message: StoredMessage = {
        id: newObjectId('msg'),
        object: 'thread.message',
        created_at: createdAt,
        thread_id: threadId,
        role: input.role,
        content: input.content,
        attachments: input.attachments ?? null,
        metadata: { ...(input.metadata ?? {}) },
        status: 'completed',
        assistant_id: input.assistant_id ?? null,
        run_id: input.run_id ?? null,
      };
      const bytes = storedBytes(message);
      await trx
        .insertInto('messages')
        .values({
          id: message.id,
          thread_id: threadId,
          created_at: createdAt,
          role: message.role,
          content: JSON.stringify(message.content),
          attachments: message.attachments === null ? null : JSON.stringify(message.attachments),
          metadata: JSON.stringify(message.metadata),
          assistant_id: message.assistant_id,
          run_id: message.run_id,
          bytes,
        })
        .execute();
      total += bytes;
      ids.push(message.id);
    }
    if (total > 0) {
      await trx
        .updateTable('threads')
        .set({ bytes: sql`bytes + ${total}` })
        .where('id', '=', threadId)
        .execute();
      await this.#addUsage(trx, total);
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
      await this.#addUsage(trx, bytes);
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
      await this.#addUsage(trx, bytes - Number(row.bytes));
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
