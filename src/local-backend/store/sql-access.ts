import { randomInt } from 'node:crypto';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { type SqlDialectName, type StoreDatabase, type ThreadsTable, USAGE_SLOTS } from './sql-schema.ts';

/** A connection or the transaction a write runs in: the query layer is the same Kysely for both dialects. */
export type Db = Kysely<StoreDatabase> | Transaction<StoreDatabase>;

export type ThreadRow = Selectable<ThreadsTable>;

/**
 * What `SqlStore` lends each of its parts (threads, messages, idempotency keys, runs): its
 * connections and its write path (group commit on SQLite, errors mapped to StoreUnavailableError).
 */
export interface SqlAccess {
  dialect: SqlDialectName;
  /** Reads go here: SQLite's second connection, which WAL lets read while a write commits. */
  reader: Kysely<StoreDatabase>;
  /** Runs a read, turning "database not there" errors into StoreUnavailableError. */
  read<T>(work: () => Promise<T>): Promise<T>;
  /** Runs a write in the store's transaction (SQLite: its group commit), with the same error mapping. */
  write<T>(work: (trx: Db) => Promise<T>): Promise<T>;
  /** The clock (milliseconds). */
  now(): number;
}

/**
 * Ids this store hands out are `prefix_` and letters and digits. Anything else cannot name a stored
 * object, and is not sent to the database (PostgreSQL rejects a NUL in text with an error).
 */
export function isStorableId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

/** A JSON object's bytes as the quota counts them (an assistant, a run, a response). */
export function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

export function seconds(access: SqlAccess): number {
  return Math.floor(access.now() / 1000);
}

/**
 * PostgreSQL: takes the thread's row lock first; SQLite has one writer. Locks are always taken in
 * one order, thread row -> run and message rows -> usage slot, so concurrent writers on several
 * instances never deadlock.
 */
export function lockThread(access: SqlAccess, trx: Db, id: string): Promise<ThreadRow | undefined> {
  return trx
    .selectFrom('threads')
    .selectAll()
    .where('id', '=', id)
    .$if(access.dialect === 'postgres', (query) => query.forUpdate())
    .executeTakeFirst();
}

/** Adds to one of the `storage_usage` slots (a random one, so writers rarely wait on each other). */
export async function addUsage(trx: Db, bytes: number): Promise<void> {
  if (bytes === 0) return;
  await trx
    .updateTable('storage_usage')
    .set({ bytes: sql`bytes + ${bytes}` })
    .where('slot', '=', randomInt(USAGE_SLOTS))
    .execute();
}

/** Adds to a thread's `bytes` (the thread, its messages and runs); false when the thread is gone. */
export async function addThreadBytes(trx: Db, id: string, bytes: number): Promise<boolean> {
  const result = await trx
    .updateTable('threads')
    .set({ bytes: sql`bytes + ${bytes}` })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
