import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrate } from './migrations/migrate.ts';
import type { StoreDatabase } from './sql-schema.ts';
import { SqlStore } from './sql-store.ts';

export interface PostgresStoreOptions {
  /** DATABASE_URL, e.g. postgres://user@127.0.0.1:5432/threads */
  connectionString: string;
  /** The schema holding the tables (created if missing). Default `public`; tests use their own. */
  schema?: string;
  /** Connections this process keeps. Default 10. */
  poolSize?: number;
  /**
   * Called for each error of a connection, idle or in use (the server restarted or was killed, the
   * network dropped). The connection is dropped from the pool; the query on it, if any, fails.
   */
  onConnectionError?: (error: Error) => void;
}

/** How long a query waits for a connection before the store answers "unavailable". */
const CONNECT_TIMEOUT_MS = 5_000;
/** No statement of ours takes long; a stuck one is cut off rather than holding its caller. */
const STATEMENT_TIMEOUT_MS = 15_000;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Errors that mean the server is not there or not accepting work: network failures, SQLSTATE
 * class 08 (connection exception), 57P01-57P03 (shutting down, cannot connect now), 53300 (too
 * many connections), and pg's own "connection terminated" and connect-timeout errors.
 */
export function isPostgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  if (/Connection terminated|timeout exceeded when trying to connect|connection error/i.test(error.message)) {
    return true;
  }
  return error.cause !== undefined && isPostgresUnavailable(error.cause);
}

/** Connects to PostgreSQL, applies pending migrations (under an advisory lock) and returns the store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlStore> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    options: `-c search_path=${schema}`,
  });
  // An 'error' event with no listener ends the process. pg's Pool listens on its idle clients only;
  // a client checked out (Kysely holds one per query or transaction) emits 'error' on itself when
  // the server goes away mid-query (57P01 at a restart, "Connection terminated unexpectedly" or
  // ECONNRESET at a crash). So every client gets a listener of its own for its whole life. The query
  // in flight fails with the same error (a StoreUnavailableError from the store), and the Pool
  // discards the client when it is released, since it is no longer queryable.
  const report = (error: Error) => options.onConnectionError?.(error);
  pool.on('connect', (client) => client.on('error', report));
  // The Pool re-emits an idle client's error after removing the client: the client's own listener
  // above has reported it already. An error before 'connect' fails that connect, not an event.
  pool.on('error', () => undefined);
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    await migrate(db, 'postgres', schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlStore(db, { dialect: 'postgres', isUnavailable: isPostgresUnavailable });
}
