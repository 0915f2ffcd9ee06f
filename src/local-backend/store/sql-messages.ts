import { sql } from 'kysely';
import { pageFromRead, readOrder } from './list-pages.ts';
import { addThreadBytes, addUsage, isStorableId, lockThread, type SqlAccess, seconds } from './sql-access.ts';
import { insertMessage, newMessage, toJson, toMessage } from './sql-rows.ts';
import type { ListMessagesQuery, ListMessagesResult, NewStoredMessage, StoredMessage } from './store.ts';
import { storedBytes } from './stored-bytes.ts';

/** A thread's messages on SQL, in `seq` order; each write counts its bytes into the thread and the usage. */
export class SqlMessages {
  readonly #access: SqlAccess;

  constructor(access: SqlAccess) {
    this.#access = access;
  }

  create(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId)) return Promise.resolve(undefined);
    const message = newMessage(threadId, input, seconds(this.#access));
    const bytes = storedBytes(message);
    return this.#access.write(async (trx) => {
      // Updating the thread's total takes its row lock before `seq` is drawn: a concurrent delete
      // waits or wins, and within a thread `seq` order is commit order, so a reader paging with
      // `after` never passes a message that commits later with a smaller `seq`.
      if (!(await addThreadBytes(trx, threadId, bytes))) return undefined;
      await insertMessage(trx, message);
      await addUsage(trx, bytes);
      return message;
    });
  }

  get(threadId: string, id: string): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#access.read(async () => {
      const row = await this.#access.reader
        .selectFrom('messages')
        .selectAll()
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      return row && toMessage(row);
    });
  }

  update(threadId: string, id: string, metadata: Record<string, string>): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#access.write(async (trx) => {
      if (!(await lockThread(this.#access, trx, threadId))) return undefined;
      const row = await trx
        .selectFrom('messages')
        .selectAll()
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      if (!row) return undefined;
      const before = toMessage(row);
      const after: StoredMessage = { ...before, metadata: { ...metadata } };
      const delta = storedBytes(after) - storedBytes(before);
      await trx
        .updateTable('messages')
        .set({ metadata: toJson(after.metadata), bytes: sql`bytes + ${delta}` })
        .where('id', '=', id)
        .execute();
      await addThreadBytes(trx, threadId, delta);
      await addUsage(trx, delta);
      return after;
    });
  }

  delete(threadId: string, id: string): Promise<boolean> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(false);
    return this.#access.write(async (trx) => {
      if (!(await lockThread(this.#access, trx, threadId))) return false;
      const deleted = await trx
        .deleteFrom('messages')
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .returning('bytes')
        .executeTakeFirst();
      if (!deleted) return false;
      await addThreadBytes(trx, threadId, -Number(deleted.bytes));
      await addUsage(trx, -Number(deleted.bytes));
      return true;
    });
  }

  list(threadId: string, query: ListMessagesQuery): Promise<ListMessagesResult> {
    if (!isStorableId(threadId)) return Promise.resolve({ kind: 'no-thread' });
    const { reader } = this.#access;
    return this.#access.read(async () => {
      const thread = await reader.selectFrom('threads').select('id').where('id', '=', threadId).executeTakeFirst();
      if (!thread) return { kind: 'no-thread' };
      const after = query.after === undefined ? undefined : await this.#cursorSeq(threadId, query.after);
      if (query.after !== undefined && after === undefined) return { kind: 'bad-cursor', param: 'after' };
      const before = query.before === undefined ? undefined : await this.#cursorSeq(threadId, query.before);
      if (query.before !== undefined && before === undefined) return { kind: 'bad-cursor', param: 'before' };
      // "after" and "before" follow the list's order: in a descending list, after means older.
      const asc = query.order === 'asc';
      const rows = await reader
        .selectFrom('messages')
        .selectAll()
        .where('thread_id', '=', threadId)
        .$if(query.run_id !== undefined, (q) => q.where('run_id', '=', query.run_id as string))
        .$if(after !== undefined, (q) => q.where('seq', asc ? '>' : '<', after as number | string))
        .$if(before !== undefined, (q) => q.where('seq', asc ? '<' : '>', before as number | string))
        .orderBy('seq', readOrder(query))
        .limit(query.limit + 1)
        .execute();
      const page = pageFromRead(rows, query);
      return { kind: 'ok', data: page.data.map(toMessage), has_more: page.has_more };
    });
  }

  async #cursorSeq(threadId: string, id: string): Promise<number | string | undefined> {
    if (!isStorableId(id)) return undefined;
    const row = await this.#access.reader
      .selectFrom('messages')
      .select('seq')
      .where('id', '=', id)
      .where('thread_id', '=', threadId)
      .executeTakeFirst();
    return row?.seq;
  }
}
