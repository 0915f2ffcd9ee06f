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
  /** Called for errors of idle connections (the server restarted, the network dropped). */
  onIdleError?: (error: Error) => void;
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
  // Without a listener, an idle connection's error (the server restarting) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
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
