import type { Kysely } from 'kysely';
import { SqlWriter } from '../../sql/sql-writer.ts';
import type { Db, SqlAccess } from './sql-access.ts';
import { SqlIdempotency } from './sql-idempotency.ts';
import { SqlMessages } from './sql-messages.ts';
import { SqlResponseStore } from './sql-response-store.ts';
import { SqlRunStore } from './sql-run-store.ts';
import type { SqlDialectName, StoreDatabase } from './sql-schema.ts';
import { SqlThreads } from './sql-threads.ts';
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

/**
 * The Store on SQL, one implementation for SQLite and PostgreSQL through one Kysely query layer:
 * threads (sql-threads.ts), messages (sql-messages.ts), idempotency keys (sql-idempotency.ts), runs
 * (sql-run-store.ts) and responses (sql-response-store.ts), all writing through one `SqlWriter`. The
 * few places where the dialects differ are row locks (PostgreSQL needs them; SQLite runs one writer
 * at a time), SQLite's group commit, and which driver errors mean "the database is not there"
 * (`isUnavailable`).
 *
 * Every write keeps `threads.bytes` (the thread and its messages) and one `storage_usage` slot in
 * step, in the same transaction, so `usedBytes` reads 16 rows however much is stored.
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

export class SqlStore implements Store {
  readonly kind: SqlDialectName;
  readonly runs: SqlRunStore;
  readonly responses: SqlResponseStore;
  readonly #db: Kysely<StoreDatabase>;
  readonly #reader: Kysely<StoreDatabase>;
  readonly #writer: SqlWriter<StoreDatabase>;
  readonly #access: SqlAccess;
  readonly #threads: SqlThreads;
  readonly #messages: SqlMessages;
  readonly #idempotency: SqlIdempotency;

  constructor(db: Kysely<StoreDatabase>, options: SqlStoreOptions) {
    this.kind = options.dialect;
    this.#db = db;
    this.#reader = options.reader ?? db;
    this.#writer = new SqlWriter(db, options.dialect);
    const now = options.now ?? Date.now;
    /** Driver errors that mean "not reachable" become StoreUnavailableError; the rest stay as they are. */
    const read = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        if (!options.isUnavailable(error)) throw error;
        throw new StoreUnavailableError(`The ${this.kind} store is unavailable`, { cause: error });
      }
    };
    const access: SqlAccess = {
      dialect: options.dialect,
      reader: this.#reader,
      read,
      write: <T>(work: (trx: Db) => Promise<T>) => read(() => this.#writer.write(work)),
      now: () => now(),
    };
    this.#access = access;
    this.#threads = new SqlThreads(access);
    this.#messages = new SqlMessages(access);
    this.#idempotency = new SqlIdempotency(access);
    this.runs = new SqlRunStore(access);
    this.responses = new SqlResponseStore(access);
  }

  createThread(input: NewStoredThread): Promise<StoredThread> {
    return this.#threads.create(input);
  }

  getThread(id: string): Promise<StoredThread | undefined> {
    return this.#threads.get(id);
  }

  updateThread(id: string, patch: ThreadPatch): Promise<StoredThread | undefined> {
    return this.#threads.update(id, patch);
  }

  deleteThread(id: string): Promise<boolean> {
    return this.#threads.delete(id);
  }

  createMessage(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined> {
    return this.#messages.create(threadId, input);
  }

  getMessage(threadId: string, id: string): Promise<StoredMessage | undefined> {
    return this.#messages.get(threadId, id);
  }

  updateMessage(threadId: string, id: string, metadata: Record<string, string>): Promise<StoredMessage | undefined> {
    return this.#messages.update(threadId, id, metadata);
  }

  deleteMessage(threadId: string, id: string): Promise<boolean> {
    return this.#messages.delete(threadId, id);
  }

  listMessages(threadId: string, query: ListMessagesQuery): Promise<ListMessagesResult> {
    return this.#messages.list(threadId, query);
  }

  getIdempotency(scopedKey: string): Promise<IdempotencyRecord | undefined> {
    return this.#idempotency.get(scopedKey);
  }

  putIdempotency(scopedKey: string, record: IdempotencyRecord): Promise<void> {
    return this.#idempotency.put(scopedKey, record);
  }

  claimIdempotency(scopedKey: string, holder: string, untilMs: number): Promise<boolean> {
    return this.#idempotency.claim(scopedKey, holder, untilMs);
  }

  releaseIdempotency(scopedKey: string, holder: string): Promise<void> {
    return this.#idempotency.release(scopedKey, holder);
  }

  async usedBytes(): Promise<number> {
    await this.#idempotency.purgeIfDue();
    return this.#access.read(async () => {
      const row = await this.#reader
        .selectFrom('storage_usage')
        .select((eb) => eb.fn.sum<number | string | null>('bytes').as('total'))
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    });
  }

  async close(): Promise<void> {
    // Writes already accepted are committed before the database closes.
    await this.#writer.drained();
    if (this.#reader !== this.#db) await this.#reader.destroy();
    await this.#db.destroy();
  }
}
