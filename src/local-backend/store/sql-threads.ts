import { sql } from 'kysely';
import { newObjectId } from './object-id.ts';
import { addUsage, isStorableId, lockThread, type SqlAccess, seconds } from './sql-access.ts';
import { messageRow, newMessage, toJson, toThread } from './sql-rows.ts';
import type { NewStoredThread, StoredThread, ThreadPatch } from './store.ts';
import { storedBytes } from './stored-bytes.ts';

/** Threads on SQL: each write keeps `threads.bytes` and a usage slot in step, in its transaction. */
export class SqlThreads {
  readonly #access: SqlAccess;

  constructor(access: SqlAccess) {
    this.#access = access;
  }

  create(input: NewStoredThread): Promise<StoredThread> {
    const createdAt = seconds(this.#access);
    const thread: StoredThread = {
      id: newObjectId('thread'),
      object: 'thread',
      created_at: createdAt,
      metadata: { ...(input.metadata ?? {}) },
      tool_resources: input.tool_resources ?? null,
    };
    const messages = (input.messages ?? []).map((message) => messageRow(newMessage(thread.id, message, createdAt)));
    const total = messages.reduce((sum, message) => sum + message.bytes, storedBytes(thread));
    return this.#access.write(async (trx) => {
      await trx
        .insertInto('threads')
        .values({
          id: thread.id,
          created_at: createdAt,
          metadata: toJson(thread.metadata),
          tool_resources: thread.tool_resources === null ? null : toJson(thread.tool_resources),
          bytes: total,
        })
        .execute();
      // One multi-row insert: both dialects assign `seq` in the order of the rows.
      if (messages.length > 0) await trx.insertInto('messages').values(messages).execute();
      await addUsage(trx, total);
      return thread;
    });
  }

  get(id: string): Promise<StoredThread | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#access.read(async () => {
      const row = await this.#access.reader.selectFrom('threads').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toThread(row);
    });
  }

  update(id: string, patch: ThreadPatch): Promise<StoredThread | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#access.write(async (trx) => {
      const row = await lockThread(this.#access, trx, id);
      if (!row) return undefined;
      const before = toThread(row);
      const after: StoredThread = { ...before };
      if (patch.metadata !== undefined) after.metadata = { ...(patch.metadata ?? {}) };
      if (patch.tool_resources !== undefined) after.tool_resources = patch.tool_resources ?? null;
      const delta = storedBytes(after) - storedBytes(before);
      await trx
        .updateTable('threads')
        .set({
          metadata: toJson(after.metadata),
          tool_resources: after.tool_resources === null ? null : toJson(after.tool_resources),
          bytes: sql`bytes + ${delta}`,
        })
        .where('id', '=', id)
        .execute();
      await addUsage(trx, delta);
      return after;
    });
  }

  delete(id: string): Promise<boolean> {
    if (!isStorableId(id)) return Promise.resolve(false);
    return this.#access.write(async (trx) => {
      // The foreign key's ON DELETE CASCADE removes the messages in the same statement.
      const deleted = await trx.deleteFrom('threads').where('id', '=', id).returning('bytes').executeTakeFirst();
      if (!deleted) return false;
      await addUsage(trx, -Number(deleted.bytes));
      return true;
    });
  }
}
