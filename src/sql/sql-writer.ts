import { CompiledQuery, type Kysely, type Transaction } from 'kysely';

/** The SQL dialects the stores run on (the local backend's and the gateway's own). */
export type SqlDialectName = 'sqlite' | 'postgres';

/** Most SQLite writes committed together (one fsync). */
const MAX_GROUP_COMMIT = 64;

// The savepoint statements, compiled once.
const SAVEPOINT = CompiledQuery.raw('savepoint w');
const RELEASE = CompiledQuery.raw('release w');
const ROLLBACK_TO = CompiledQuery.raw('rollback to w');

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface PendingWrite<DB> {
  work: (trx: Transaction<DB>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface SqlWriterOptions {
  /**
   * Makes every commit so far durable, off the event loop (SQLite with `synchronous=NORMAL`: an
   * fsync of its WAL on libuv's thread pool). A group's writes are answered only once it resolves,
   * and the writes that arrive meanwhile form the next group. Without it, each commit is durable
   * when it returns (`synchronous=FULL`).
   */
  durable?: () => Promise<void>;
}

/**
 * Runs each write in a transaction. PostgreSQL: its own transaction (the server commits groups by
 * itself). SQLite: better-sqlite3 is synchronous, so a commit's fsync holds the event loop for
 * milliseconds; writes that arrive together are committed together instead, each in its own
 * savepoint (one failing write rolls back only itself), and every promise resolves after the one
 * commit (and, with `durable`, the one fsync) that made its write durable. Both the local backend's
 * store and the gateway's own store write through one of these per database connection.
 */
export class SqlWriter<DB> {
  readonly #db: Kysely<DB>;
  readonly #dialect: SqlDialectName;
  readonly #durable: (() => Promise<void>) | undefined;
  readonly #pending: PendingWrite<DB>[] = [];
  #flushing = false;

  constructor(db: Kysely<DB>, dialect: SqlDialectName, options: SqlWriterOptions = {}) {
    this.#db = db;
    this.#dialect = dialect;
    this.#durable = options.durable;
  }

  write<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    if (this.#dialect === 'postgres') return this.#db.transaction().execute(work);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** Resolves once every write accepted so far is committed and durable (before the database closes). */
  async drained(): Promise<void> {
    while (this.#flushing) await new Promise((resolve) => setImmediate(resolve));
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_GROUP_COMMIT);
      let outcomes: Outcome[];
      try {
        outcomes = await this.#commit(batch);
        await this.#durable?.();
      } catch (error) {
        // The commit itself failed (disk full, I/O error): nothing of this batch was written. Or
        // its fsync failed: none of it is known to be durable, so none of it is acknowledged.
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

  /**
   * One transaction, one savepoint per write; the outcomes in the batch's order. A write alone in
   * its batch needs no savepoint: if it fails, the transaction is rolled back, and held nothing else.
   */
  async #commit(batch: PendingWrite<DB>[]): Promise<Outcome[]> {
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only) {
      try {
        return [{ ok: true, value: await this.#db.transaction().execute(only.work) }];
      } catch (error) {
        return [{ ok: false, error }];
      }
    }
    const outcomes: Outcome[] = [];
    await this.#db.transaction().execute(async (trx) => {
      for (const write of batch) {
        await trx.executeQuery(SAVEPOINT);
        try {
          outcomes.push({ ok: true, value: await write.work(trx) });
          await trx.executeQuery(RELEASE);
        } catch (error) {
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
          outcomes.push({ ok: false, error });
        }
      }
    });
    return outcomes;
  }
}
