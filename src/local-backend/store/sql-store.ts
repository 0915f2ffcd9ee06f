import { createHash, randomInt } from 'node:crypto';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { newObjectId } from './object-id.ts';
import { SqlResponseStore } from './sql-response-store.ts';
import { SqlRunStore } from './sql-run-store.ts';
import type { MessagesTable, SqlDialectName, StoreDatabase, ThreadsTable } from './sql-schema.ts';
import { USAGE_SLOTS } from './sql-schema.ts';
import {
  type IdempotencyRecord,
  type ListMessagesQuery,
  type ListMessagesResult,
  type NewStoredMessage,
  type NewStoredThread,
  type Store,
  type StoredMessage,
  type StoredThread,
  StoreUnavailableError,
  type ThreadPatch,
} from './store.ts';
import { idempotencyBytes, storedBytes } from './stored-bytes.ts';

/**
 * The Store on SQL, one implementation for SQLite and PostgreSQL through Kysely. The few places
 * where the dialects differ are row locks (PostgreSQL needs them; SQLite runs one writer at a
 * time) and which driver errors mean "the database is not there" (`isUnavailable`).
 *
 * Locks are always taken in one order, thread row -> message rows -> usage slot, so concurrent
 * writers on several instances never deadlock. Every write keeps `threads.bytes` (the thread and
 * its messages) and one `storage_usage` slot in step, in the same transaction, so `usedBytes`
 * reads 16 rows however much is stored.
 */
export interface SqlStoreOptions {
  dialect: SqlDialectName;
  /** True for a driver error that means the database cannot be reached or cannot write now. */
  isUnavailable(error: unknown): boolean;
  /**
   * A separate connection for reads (SQLite): reads then never queue behind a group commit on the
   * writer. They see every write that was acknowledged, since a write is answered after its commit.
   */
  reader?: Kysely<StoreDatabase>;
  /** The clock (milliseconds); tests move it to expire idempotency keys. */
  now?: () => number;
}

type ThreadRow = Selectable<ThreadsTable>;
type MessageRow = Selectable<MessagesTable>;
type Db = Kysely<StoreDatabase> | Transaction<StoreDatabase>;

/** Most SQLite writes committed together (one fsync). */
const MAX_GROUP_COMMIT = 64;

/** Idempotency keys past their expiry are deleted at most this often. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * Ids this store hands out are `prefix_` and letters and digits. Anything else cannot name a stored
 * object, and is not sent to the database (PostgreSQL rejects a NUL in text with an error).
 */
function isStorableId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

/** Idempotency keys are scoped by the caller's API key: only a digest of the pair is stored. */
function keyDigest(scopedKey: string): string {
  return createHash('sha256').update(scopedKey).digest('hex');
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function toThread(row: ThreadRow): StoredThread {
  return {
    id: row.id,
    object: 'thread',
    created_at: Number(row.created_at),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    tool_resources: row.tool_resources === null ? null : (JSON.parse(row.tool_resources) as Record<string, unknown>),
  };
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    object: 'thread.message',
    created_at: Number(row.created_at),
    thread_id: row.thread_id,
    role: row.role,
    content: JSON.parse(row.content) as unknown[],
    attachments: row.attachments === null ? null : (JSON.parse(row.attachments) as unknown[]),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    status: 'completed',
    assistant_id: row.assistant_id,
    run_id: row.run_id,
  };
}

function messageRow(message: StoredMessage) {
  return {
    id: message.id,
    thread_id: message.thread_id,
    created_at: message.created_at,
    role: message.role,
    content: json(message.content),
    attachments: message.attachments === null ? null : json(message.attachments),
    metadata: json(message.metadata),
    assistant_id: message.assistant_id,
    run_id: message.run_id,
    bytes: storedBytes(message),
  };
}

function newMessage(threadId: string, input: NewStoredMessage, createdAt: number): StoredMessage {
  return {
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
}

export class SqlStore implements Store {
  readonly kind: SqlDialectName;
  readonly runs: SqlRunStore;
  readonly responses: SqlResponseStore;
  readonly #db: Kysely<StoreDatabase>;
  /** Reads go here: SQLite's second connection, which WAL lets read while a write commits. */
  readonly #reader: Kysely<StoreDatabase>;
  readonly #isUnavailable: (error: unknown) => boolean;
  readonly #now: () => number;
  #lastPurge = 0;
  readonly #pending: Array<{
    work: (trx: Db) => Promise<unknown>;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }> = [];
  #flushing = false;

  constructor(db: Kysely<StoreDatabase>, options: SqlStoreOptions) {
    this.kind = options.dialect;
    this.#db = db;
    this.#reader = options.reader ?? db;
    this.#isUnavailable = options.isUnavailable;
    this.#now = options.now ?? Date.now;
    this.runs = new SqlRunStore({
      dialect: this.kind,
      reader: this.#reader,
      read: (work) => this.#run(work),
      write: (work) => this.#run(() => this.#write(work)),
      now: () => this.#now(),
    });
    this.responses = new SqlResponseStore({
      dialect: this.kind,
      reader: this.#reader,
      read: (work) => this.#run(work),
      write: (work) => this.#run(() => this.#write(work)),
      now: () => this.#now(),
    });
  }

  /** Driver errors that mean "not reachable" become StoreUnavailableError; the rest stay as they are. */
  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (this.#isUnavailable(error)) {
        throw new StoreUnavailableError(`The ${this.kind} store is unavailable`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Runs one write in a transaction. PostgreSQL: its own transaction (the server commits groups by
   * itself). SQLite: better-sqlite3 is synchronous, so each commit's fsync (synchronous=FULL) holds
   * the event loop for milliseconds; writes that arrive together are committed together instead,
   * each in its own savepoint (one failing write rolls back only itself), and every promise
   * resolves after the one commit that made its write durable.
   */
  #write<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.#db.transaction().execute(work);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_GROUP_COMMIT);
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      try {
        await this.#db.transaction().execute(async (trx) => {
          for (const write of batch) {
            await sql`savepoint w`.execute(trx);
            try {
              outcomes.push({ ok: true, value: await write.work(trx) });
              await sql`release w`.execute(trx);
            } catch (error) {
              await sql`rollback to w`.execute(trx);
              await sql`release w`.execute(trx);
              outcomes.push({ ok: false, error });
            }
          }
        });
      } catch (error) {
        // The commit itself failed (disk full, I/O error): nothing of this batch was written.
        for (const write of batch) write.reject(error);
        continue;
      }
      for (const [index, write] of batch.entries()) {
        const outcome = outcomes[index];
        if (outcome?.ok) write.resolve(outcome.value);
        else write.reject(outcome?.error);
      }
    }
    this.#flushing = false;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** PostgreSQL: take the thread's row lock first (see the class comment); SQLite has one writer. */
  async #lockThread(trx: Db, id: string): Promise<ThreadRow | undefined> {
    return trx
      .selectFrom('threads')
      .selectAll()
      .where('id', '=', id)
      .$if(this.kind === 'postgres', (query) => query.forUpdate())
      .executeTakeFirst();
  }

  async #addUsage(trx: Db, bytes: number): Promise<void> {
    if (bytes === 0) return;
    await trx
      .updateTable('storage_usage')
      .set({ bytes: sql`bytes + ${bytes}` })
      .where('slot', '=', randomInt(USAGE_SLOTS))
      .execute();
  }

  async #addThreadBytes(trx: Db, id: string, bytes: number): Promise<boolean> {
    const result = await trx
      .updateTable('threads')
      .set({ bytes: sql`bytes + ${bytes}` })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  createThread(input: NewStoredThread): Promise<StoredThread> {
    const createdAt = this.#seconds();
    const thread: StoredThread = {
      id: newObjectId('thread'),
      object: 'thread',
      created_at: createdAt,
      metadata: { ...(input.metadata ?? {}) },
      tool_resources: input.tool_resources ?? null,
    };
    const messages = (input.messages ?? []).map((message) => messageRow(newMessage(thread.id, message, createdAt)));
    const total = messages.reduce((sum, message) => sum + message.bytes, storedBytes(thread));
    return this.#run(() =>
      this.#write(async (trx) => {
        await trx
          .insertInto('threads')
          .values({
            id: thread.id,
            created_at: createdAt,
            metadata: json(thread.metadata),
            tool_resources: thread.tool_resources === null ? null : json(thread.tool_resources),
            bytes: total,
          })
          .execute();
        // One multi-row insert: both dialects assign `seq` in the order of the rows.
        if (messages.length > 0) await trx.insertInto('messages').values(messages).execute();
        await this.#addUsage(trx, total);
        return thread;
      }),
    );
  }

  getThread(id: string): Promise<StoredThread | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#run(async () => {
      const row = await this.#reader.selectFrom('threads').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toThread(row);
    });
  }

  updateThread(id: string, patch: ThreadPatch): Promise<StoredThread | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#run(() =>
      this.#write(async (trx) => {
        const row = await this.#lockThread(trx, id);
        if (!row) return undefined;
        const before = toThread(row);
        const after: StoredThread = { ...before };
        if (patch.metadata !== undefined) after.metadata = { ...(patch.metadata ?? {}) };
        if (patch.tool_resources !== undefined) after.tool_resources = patch.tool_resources ?? null;
        const delta = storedBytes(after) - storedBytes(before);
        await trx
          .updateTable('threads')
          .set({
            metadata: json(after.metadata),
            tool_resources: after.tool_resources === null ? null : json(after.tool_resources),
            bytes: sql`bytes + ${delta}`,
          })
          .where('id', '=', id)
          .execute();
        await this.#addUsage(trx, delta);
        return after;
      }),
    );
  }

  deleteThread(id: string): Promise<boolean> {
    if (!isStorableId(id)) return Promise.resolve(false);
    return this.#run(() =>
      this.#write(async (trx) => {
        // The foreign key's ON DELETE CASCADE removes the messages in the same statement.
        const deleted = await trx.deleteFrom('threads').where('id', '=', id).returning('bytes').executeTakeFirst();
        if (!deleted) return false;
        await this.#addUsage(trx, -Number(deleted.bytes));
        return true;
      }),
    );
  }

  createMessage(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId)) return Promise.resolve(undefined);
    const message = newMessage(threadId, input, this.#seconds());
    const row = messageRow(message);
    return this.#run(() =>
      this.#write(async (trx) => {
        // Updating the thread's total takes its row lock before `seq` is drawn: a concurrent delete
        // waits or wins, and within a thread `seq` order is commit order, so a reader paging with
        // `after` never passes a message that commits later with a smaller `seq`.
        if (!(await this.#addThreadBytes(trx, threadId, row.bytes))) return undefined;
        await trx.insertInto('messages').values(row).execute();
        await this.#addUsage(trx, row.bytes);
        return message;
      }),
    );
  }

  getMessage(threadId: string, id: string): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#run(async () => {
      const row = await this.#reader
        .selectFrom('messages')
        .selectAll()
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      return row && toMessage(row);
    });
  }

  updateMessage(threadId: string, id: string, metadata: Record<string, string>): Promise<StoredMessage | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#run(() =>
      this.#write(async (trx) => {
        if (!(await this.#lockThread(trx, threadId))) return undefined;
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
          .set({ metadata: json(after.metadata), bytes: sql`bytes + ${delta}` })
          .where('id', '=', id)
          .execute();
        await this.#addThreadBytes(trx, threadId, delta);
        await this.#addUsage(trx, delta);
        return after;
      }),
    );
  }

  deleteMessage(threadId: string, id: string): Promise<boolean> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(false);
    return this.#run(() =>
      this.#write(async (trx) => {
        if (!(await this.#lockThread(trx, threadId))) return false;
        const deleted = await trx
          .deleteFrom('messages')
          .where('id', '=', id)
          .where('thread_id', '=', threadId)
          .returning('bytes')
          .executeTakeFirst();
        if (!deleted) return false;
        await this.#addThreadBytes(trx, threadId, -Number(deleted.bytes));
        await this.#addUsage(trx, -Number(deleted.bytes));
        return true;
      }),
    );
  }

  async #cursorSeq(threadId: string, id: string): Promise<number | string | undefined> {
    if (!isStorableId(id)) return undefined;
    const row = await this.#reader
      .selectFrom('messages')
      .select('seq')
      .where('id', '=', id)
      .where('thread_id', '=', threadId)
      .executeTakeFirst();
    return row?.seq;
  }

  listMessages(threadId: string, query: ListMessagesQuery): Promise<ListMessagesResult> {
    if (!isStorableId(threadId)) return Promise.resolve({ kind: 'no-thread' });
    return this.#run(async () => {
      const thread = await this.#reader
        .selectFrom('threads')
        .select('id')
        .where('id', '=', threadId)
        .executeTakeFirst();
      if (!thread) return { kind: 'no-thread' };
      const after = query.after === undefined ? undefined : await this.#cursorSeq(threadId, query.after);
      if (query.after !== undefined && after === undefined) return { kind: 'bad-cursor', param: 'after' };
      const before = query.before === undefined ? undefined : await this.#cursorSeq(threadId, query.before);
      if (query.before !== undefined && before === undefined) return { kind: 'bad-cursor', param: 'before' };
      // "after" and "before" follow the list's order: in a descending list, after means older.
      const asc = query.order === 'asc';
      const rows = await this.#reader
        .selectFrom('messages')
        .selectAll()
        .where('thread_id', '=', threadId)
        .$if(query.run_id !== undefined, (q) => q.where('run_id', '=', query.run_id as string))
        .$if(after !== undefined, (q) => q.where('seq', asc ? '>' : '<', after as number | string))
        .$if(before !== undefined, (q) => q.where('seq', asc ? '<' : '>', before as number | string))
        .orderBy('seq', query.order)
        .limit(query.limit + 1)
        .execute();
      const hasMore = rows.length > query.limit;
      return { kind: 'ok', data: rows.slice(0, query.limit).map(toMessage), has_more: hasMore };
    });
  }

  getIdempotency(scopedKey: string): Promise<IdempotencyRecord | undefined> {
    return this.#run(async () => {
      const row = await this.#reader
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('key', '=', keyDigest(scopedKey))
        .where('expires_at', '>', this.#now())
        .executeTakeFirst();
      return row && { fingerprint: row.fingerprint, answer: row.answer, expiresAt: Number(row.expires_at) };
    });
  }

  /** Counted against the quota, never refused: the create it remembers is already made (see `withQuota`). */
  putIdempotency(scopedKey: string, record: IdempotencyRecord): Promise<void> {
    const now = this.#now();
    const purge = this.#purgeDue(now);
    const key = keyDigest(scopedKey);
    const bytes = idempotencyBytes(record);
    return this.#run(() =>
      this.#write(async (trx) => {
        let freed = purge ? await this.#purgeExpired(trx, now) : 0;
        // Replacing a key gives the old answer's bytes back. Each deleted row is returned to one
        // deleter only, so concurrent writers never give the same bytes back twice.
        const replaced = await trx.deleteFrom('idempotency_keys').where('key', '=', key).returning('bytes').execute();
        for (const row of replaced) freed += Number(row.bytes);
        // A concurrent put of the same key that committed first keeps its answer (and its count).
        const inserted = await trx
          .insertInto('idempotency_keys')
          .values({
            key,
            fingerprint: record.fingerprint,
            answer: record.answer,
            expires_at: record.expiresAt,
            bytes,
          })
          .onConflict((conflict) => conflict.column('key').doNothing())
          .executeTakeFirst();
        await this.#addUsage(trx, (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? bytes : 0) - freed);
      }),
    );
  }

  #purgeDue(now: number): boolean {
    if (now - this.#lastPurge < PURGE_INTERVAL_MS) return false;
    this.#lastPurge = now;
    return true;
  }

  /** Deletes expired idempotency answers; returns the bytes they counted. */
  async #purgeExpired(trx: Db, now: number): Promise<number> {
    const rows = await trx.deleteFrom('idempotency_keys').where('expires_at', '<=', now).returning('bytes').execute();
    return rows.reduce((sum, row) => sum + Number(row.bytes), 0);
  }

  async usedBytes(): Promise<number> {
    // Expired answers give their bytes back even when no new key arrives to purge them: a full
    // quota refuses creates, so no put may come until it does.
    const now = this.#now();
    if (this.#purgeDue(now)) {
      await this.#run(() =>
        this.#write(async (trx) => {
          const freed = await this.#purgeExpired(trx, now);
          await this.#addUsage(trx, -freed);
        }),
      );
    }
    return this.#run(async () => {
      const row = await this.#reader
        .selectFrom('storage_usage')
        .select((eb) => eb.fn.sum<number | string | null>('bytes').as('total'))
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    });
  }

  async close(): Promise<void> {
    // Writes already accepted are committed before the database closes.
    while (this.#flushing) await new Promise((resolve) => setImmediate(resolve));
    if (this.#reader !== this.#db) await this.#reader.destroy();
    await this.#db.destroy();
  }
}
