import { createHmac, randomBytes } from 'node:crypto';
import { type ColumnType, type Expression, type Kysely, type SqlBool, sql, type Transaction } from 'kysely';
import type { StoreConfig } from '../../config/config.ts';
import { ErrorCode, GatewayError } from '../../errors.ts';
import { CompiledStatements } from '../../sql/compiled-statements.ts';
import { type SqlDialectName, SqlWriter } from '../../sql/sql-writer.ts';
import {
  type GatewayDatabase,
  type GatewayDatabaseOptions,
  openGatewayDatabase,
} from '../gateway-store/open-gateway-database.ts';
import type {
  ThreadIndex,
  ThreadIndexAdd,
  ThreadIndexEntry,
  ThreadIndexPosition,
  ThreadIndexQuery,
} from './thread-index.ts';

type BigIntColumn = ColumnType<number | string, number, number>;

interface IndexDatabase {
  gateway_secret: { name: string; value: string };
  gateway_thread_index: { caller_id: string; thread_id: string; created_at: BigIntColumn; metadata: string };
  gateway_thread_index_metadata: {
    caller_id: string;
    thread_id: string;
    key: string;
    value: string;
    created_at: BigIntColumn;
  };
}

const SECRET_NAME = 'caller-id-key';
/** Callers whose stored id is kept in memory; past it the map starts again (one HMAC each). */
const CALLERS_KEPT = 10_000;
/** Rows per insert statement when seeding (SQLite binds at most 32,766 parameters). */
const SEED_CHUNK = 1_000;

/**
 * The lists on SQL, one Kysely layer for SQLite and PostgreSQL. Caller ids are stored as an HMAC
 * under the deployment's own key (`gateway_secret`, made once per database): the database alone
 * cannot be matched against tokens or keys, even guessed ones.
 */
export class SqlThreadIndex implements ThreadIndex {
  readonly kind: SqlDialectName;
  readonly #db: Kysely<IndexDatabase>;
  readonly #isUnavailable: (error: unknown) => boolean;
  readonly #key: Buffer;
  /** Every write goes through it: on SQLite, the writes of one turn share one commit and one fsync. */
  readonly #writer: SqlWriter<IndexDatabase>;
  readonly #close: () => Promise<void>;
  /** Each caller's stored id (its HMAC), for the callers seen lately. */
  readonly #callers = new Map<string, string>();
  /** Every statement but the seeding inserts, compiled once per shape. */
  readonly #statements = new CompiledStatements();

  private constructor(store: GatewayDatabase, key: Buffer) {
    this.#db = store.db as Kysely<IndexDatabase>;
    this.kind = store.dialect;
    this.#isUnavailable = store.isUnavailable;
    this.#key = key;
    this.#writer = new SqlWriter(this.#db, store.dialect, store.durable ? { durable: store.durable } : {});
    this.#close = store.close;
  }

  /** The index on an opened gateway store: reads (or makes) the deployment's caller-id key. */
  static async on(store: GatewayDatabase): Promise<SqlThreadIndex> {
    const db = store.db as Kysely<IndexDatabase>;
    await db
      .insertInto('gateway_secret')
      .values({ name: SECRET_NAME, value: randomBytes(32).toString('base64url') })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('gateway_secret')
      .select('value')
      .where('name', '=', SECRET_NAME)
      .executeTakeFirstOrThrow();
    return new SqlThreadIndex(store, Buffer.from(row.value, 'base64url'));
  }

  #caller(callerId: string): string {
    let hashed = this.#callers.get(callerId);
    if (hashed === undefined) {
      if (this.#callers.size >= CALLERS_KEPT) this.#callers.clear();
      hashed = createHmac('sha256', this.#key).update(callerId).digest('base64url');
      this.#callers.set(callerId, hashed);
    }
    return hashed;
  }

  async #run<T>(work: (db: Kysely<IndexDatabase>) => Promise<T>): Promise<T> {
    try {
      return await work(this.#db);
    } catch (error) {
      if (this.#isUnavailable(error)) {
        throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway’s thread list store is not available.');
      }
      throw error;
    }
  }

  /** A write, answered once the commit that holds it is durable. */
  #write<T>(work: (trx: Transaction<IndexDatabase>) => Promise<T>): Promise<T> {
    return this.#run(() => this.#writer.write(work));
  }

  add(callerId: string, entry: ThreadIndexEntry, maxEntries: number): Promise<ThreadIndexAdd> {
    const caller = this.#caller(callerId);
    const { threadId } = entry;
    return this.#write(async (trx) => {
      const present = await this.#statements.run(trx, 'present', [caller, threadId], () =>
        trx
          .selectFrom('gateway_thread_index')
          .select('thread_id')
          .where('caller_id', '=', caller)
          .where('thread_id', '=', threadId),
      );
      if (present.rows.length > 0) return 'present';
      // Counts the caller's rows of the (caller_id, created_at, thread_id) index only.
      const counted = await this.#statements.run(trx, 'count-caller', [caller], () =>
        trx
          .selectFrom('gateway_thread_index')
          .select((eb) => eb.fn.countAll<number | string>().as('count'))
          .where('caller_id', '=', caller),
      );
      if (Number(counted.rows[0]?.count ?? 0) >= maxEntries) return 'full';
      const row = {
        caller_id: caller,
        thread_id: threadId,
        created_at: entry.createdAt,
        metadata: JSON.stringify(entry.metadata),
      };
      await this.#statements.run(trx, 'insert-entry', Object.values(row), () =>
        trx.insertInto('gateway_thread_index').values(row),
      );
      await this.#insertPairs(trx, [{ caller, createdAt: entry.createdAt }], threadId, entry.metadata);
      return 'added';
    });
  }

  /** Each of `lists`' copy of the thread's metadata, one row per pair. */
  async #insertPairs(
    trx: Transaction<IndexDatabase>,
    lists: ReadonlyArray<{ caller: string; createdAt: number }>,
    threadId: string,
    metadata: Record<string, string>,
  ): Promise<void> {
    const pairs = lists.flatMap(({ caller, createdAt }) =>
      Object.entries(metadata).map(([key, value]) => ({
        caller_id: caller,
        thread_id: threadId,
        key,
        value,
        created_at: createdAt,
      })),
    );
    if (pairs.length === 0) return;
    const parameters = pairs.flatMap((pair) => Object.values(pair));
    await this.#statements.run(trx, `insert-pairs ${pairs.length}`, parameters, () =>
      trx.insertInto('gateway_thread_index_metadata').values(pairs),
    );
  }

  addMany(callerId: string, entries: readonly ThreadIndexEntry[]): Promise<void> {
    const caller = this.#caller(callerId);
    return this.#write(async (trx) => {
      for (let start = 0; start < entries.length; start += SEED_CHUNK) {
        await insertEntries(trx, caller, entries.slice(start, start + SEED_CHUNK));
      }
    });
  }

  updateMetadata(threadId: string, metadata: Record<string, string>): Promise<void> {
    return this.#write(async (trx) => {
      const { rows } = await this.#statements.run(trx, 'lists-of-thread', [threadId], () =>
        trx.selectFrom('gateway_thread_index').select(['caller_id', 'created_at']).where('thread_id', '=', threadId),
      );
      if (rows.length === 0) return;
      const json = JSON.stringify(metadata);
      await this.#statements.run(trx, 'update-metadata', [json, threadId], () =>
        trx.updateTable('gateway_thread_index').set({ metadata: json }).where('thread_id', '=', threadId),
      );
      await this.#deletePairsOfThread(trx, threadId);
      const lists = rows.map((row) => ({ caller: row.caller_id, createdAt: Number(row.created_at) }));
      await this.#insertPairs(trx, lists, threadId, metadata);
    });
  }

  #deletePairsOfThread(trx: Transaction<IndexDatabase>, threadId: string) {
    return this.#statements.run(trx, 'delete-pairs-of-thread', [threadId], () =>
      trx.deleteFrom('gateway_thread_index_metadata').where('thread_id', '=', threadId),
    );
  }

  removeThread(threadId: string): Promise<void> {
    return this.#write(async (trx) => {
      await this.#deletePairsOfThread(trx, threadId);
      await this.#statements.run(trx, 'delete-thread', [threadId], () =>
        trx.deleteFrom('gateway_thread_index').where('thread_id', '=', threadId),
      );
    });
  }

  forget(callerId: string, threadId: string): Promise<boolean> {
    const caller = this.#caller(callerId);
    return this.#write(async (trx) => {
      await this.#statements.run(trx, 'forget-pairs', [caller, threadId], () =>
        trx
          .deleteFrom('gateway_thread_index_metadata')
          .where('caller_id', '=', caller)
          .where('thread_id', '=', threadId),
      );
      const result = await this.#statements.run(trx, 'forget', [caller, threadId], () =>
        trx.deleteFrom('gateway_thread_index').where('caller_id', '=', caller).where('thread_id', '=', threadId),
      );
      return Number(result.numAffectedRows ?? 0) === 1;
    });
  }

  /**
   * Without a filter: a range of the (caller_id, created_at, thread_id) index. With one: a range of
   * the metadata index for its first pair, (caller_id, key, value, created_at, thread_id), each row
   * checked for the other pairs by primary key.
   */
  list(callerId: string, query: ThreadIndexQuery): Promise<ThreadIndexPosition[]> {
    const caller = this.#caller(callerId);
    const pairs = Object.entries(query.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const direction = query.order;
    const after = query.after;
    // The query's values in the order its SQL binds them.
    const parameters: unknown[] = [caller, ...pairs.flat()];
    if (after) parameters.push(after.createdAt, after.threadId);
    parameters.push(query.limit);
    const shape = `${pairs.length} ${after ? 'after' : 'first'} ${direction}`;
    return this.#run(async (db) => {
      const { rows } = await this.#statements.run(db, `list ${shape}`, parameters, () =>
        listQuery(db, caller, pairs, direction, after, query.limit),
      );
      return rows.map((row) => ({ threadId: row.thread_id, createdAt: Number(row.created_at) }));
    });
  }

  count(callerId: string, metadata: Record<string, string>): Promise<number> {
    const caller = this.#caller(callerId);
    const pairs = Object.entries(metadata);
    return this.#run(async (db) => {
      let select = db
        .selectFrom('gateway_thread_index as t')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('t.caller_id', '=', caller);
      for (const [key, value] of pairs) {
        select = select.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('gateway_thread_index_metadata as m')
              .select(sql.lit(1).as('one'))
              .where('m.caller_id', '=', caller)
              .whereRef('m.thread_id', '=', 't.thread_id')
              .where('m.key', '=', key)
              .where('m.value', '=', value),
          ),
        );
      }
      const { count } = await select.executeTakeFirstOrThrow();
      return Number(count);
    });
  }

  async close(): Promise<void> {
    // Writes already accepted are committed before the database closes.
    await this.#writer.drained();
    await this.#close();
  }
}

/** `(created_at, thread_id) < (…)` (or `>`): a row-value comparison both dialects serve from the index. */
function afterPosition(table: 't', comparison: '<' | '>', after: ThreadIndexPosition): Expression<SqlBool> {
  return sql<SqlBool>`(${sql.ref(`${table}.created_at`)}, ${sql.ref(`${table}.thread_id`)}) ${sql.raw(comparison)} (${after.createdAt}, ${after.threadId})`;
}

/** A page of the list: see `SqlThreadIndex.list`. */
function listQuery(
  db: Kysely<IndexDatabase>,
  caller: string,
  pairs: ReadonlyArray<[string, string]>,
  direction: 'asc' | 'desc',
  after: ThreadIndexPosition | undefined,
  limit: number,
) {
  const comparison = direction === 'desc' ? '<' : '>';
  const first = pairs[0];
  let select = first
    ? db
        .selectFrom('gateway_thread_index_metadata as t')
        .select(['t.thread_id', 't.created_at'])
        .where('t.caller_id', '=', caller)
        .where('t.key', '=', first[0])
        .where('t.value', '=', first[1])
    : db
        .selectFrom('gateway_thread_index as t')
        .select(['t.thread_id', 't.created_at'])
        .where('t.caller_id', '=', caller);
  for (const [key, value] of pairs.slice(1)) {
    select = select.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('gateway_thread_index_metadata as m')
          .select(sql.lit(1).as('one'))
          .whereRef('m.caller_id', '=', 't.caller_id')
          .whereRef('m.thread_id', '=', 't.thread_id')
          .where('m.key', '=', key)
          .where('m.value', '=', value),
      ),
    );
  }
  if (after) select = select.where(afterPosition('t', comparison, after));
  return select.orderBy('t.created_at', direction).orderBy('t.thread_id', direction).limit(limit);
}

async function insertEntries(
  db: Kysely<IndexDatabase>,
  caller: string,
  entries: readonly ThreadIndexEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const insert = db.insertInto('gateway_thread_index').values(
    entries.map((entry) => ({
      caller_id: caller,
      thread_id: entry.threadId,
      created_at: entry.createdAt,
      metadata: JSON.stringify(entry.metadata),
    })),
  );
  await insert.onConflict((conflict) => conflict.columns(['caller_id', 'thread_id']).doNothing()).execute();
  const pairs = entries.flatMap((entry) =>
    Object.entries(entry.metadata).map(([key, value]) => ({
      caller_id: caller,
      thread_id: entry.threadId,
      key,
      value,
      created_at: entry.createdAt,
    })),
  );
  for (let start = 0; start < pairs.length; start += SEED_CHUNK) {
    await db
      .insertInto('gateway_thread_index_metadata')
      .values(pairs.slice(start, start + SEED_CHUNK))
      .onConflict((conflict) => conflict.columns(['caller_id', 'thread_id', 'key']).doNothing())
      .execute();
  }
}

/** The index on the configured store, opened and migrated; undefined for the memory store. */
export async function openSqlThreadIndex(
  store: StoreConfig,
  options: GatewayDatabaseOptions = {},
): Promise<SqlThreadIndex | undefined> {
  const opening = openGatewayDatabase(store, options);
  if (!opening) return undefined;
  const database = await opening;
  try {
    return await SqlThreadIndex.on(database);
  } catch (error) {
    await database.close();
    throw error;
  }
}
