import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { StoreConfig } from '../../config/config.ts';
import { isPostgresUnavailable } from '../../local-backend/store/postgres-store.ts';
import type { SqlDialectName } from '../../local-backend/store/sql-schema.ts';
import {
  BUSY_TIMEOUT_MS,
  createOwnerOnly,
  isSqliteUnavailable,
  prepareDataDir,
  withStatementCache,
} from '../../local-backend/store/sqlite-store.ts';
import { migrateGatewayStore } from './migrations/migrate.ts';

/** The gateway's own SQLite file in DATA_DIR, beside the local backend's `threads.db`. */
export const GATEWAY_SQLITE_FILE = 'gateway.db';

/**
 * The gateway's store: its own tables (`gateway_…`, migrated by `gateway_migration`) in SQLite
 * `DATA_DIR/gateway.db` or on PostgreSQL with DATABASE_URL. Runs and the thread index each open
 * one on first use, over the same database and migrations.
 */
export interface GatewayDatabase {
  db: Kysely<unknown>;
  dialect: SqlDialectName;
  /** The database is not there (try again later), as opposed to a query that is wrong. */
  isUnavailable: (error: unknown) => boolean;
  /** SQLite in a file: makes the commits so far durable (the writers' `durable`, see below). */
  durable?: () => Promise<void>;
  /** Closes the database and what it holds open. */
  close(): Promise<void>;
}

/**
 * `gateway.db` commits without an fsync (`synchronous=NORMAL`, WAL): a commit only writes its
 * frames to the WAL. Its writers then fsync the WAL on libuv's thread pool and answer a group's
 * writes after that fsync (`SqlWriter`'s `durable`), so an acknowledged write survives `kill -9`
 * and a power loss as with FULL, and the event loop serves requests while the disk syncs instead
 * of waiting for it. (A read may see a write a few milliseconds before it is acknowledged.)
 */
function walSync(file: string): { durable: () => Promise<void>; release: () => Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  return {
    durable: async () => {
      // The WAL exists once the first commit wrote to it; opened then, and kept.
      handle ??= open(`${file}-wal`, 'r');
      try {
        await (await handle).sync();
      } catch (error) {
        handle = undefined;
        throw error;
      }
    },
    release: async () => {
      const opened = handle;
      handle = undefined;
      await (await opened?.catch(() => undefined))?.close();
    },
  };
}

export interface GatewayDatabaseOptions {
  onBackgroundError?: (error: Error) => void;
  onWarning?: (message: string) => void;
}

/** DATA_DIR's `gateway.db` (created owner-only, migrated); no DATA_DIR: in memory. */
export async function openSqliteGatewayDatabase(
  options: { dataDir?: string; onWarning?: (message: string) => void } = {},
): Promise<GatewayDatabase> {
  let file = ':memory:';
  if (options.dataDir !== undefined) {
    prepareDataDir(options.dataDir, options.onWarning ?? (() => undefined));
    file = join(options.dataDir, GATEWAY_SQLITE_FILE);
    createOwnerOnly(file);
  }
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  try {
    await migrateGatewayStore(db, 'sqlite');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (file === ':memory:')
    return { db, dialect: 'sqlite', isUnavailable: isSqliteUnavailable, close: () => db.destroy() };
  // The migrations' commits (and the caller-id key's) are not synced alone: they are in the WAL
  // before any write that relies on them, and the fsync that acknowledges that write covers them.
  const wal = walSync(file);
  return {
    db,
    dialect: 'sqlite',
    isUnavailable: isSqliteUnavailable,
    durable: wal.durable,
    close: async () => {
      await db.destroy();
      await wal.release();
    },
  };
}

/** PostgreSQL (DATABASE_URL), in `schema` (default `public`), migrated. */
export async function openPostgresGatewayDatabase(options: {
  connectionString: string;
  schema?: string;
  onConnectionError?: (error: Error) => void;
}): Promise<GatewayDatabase> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 4,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
    options: `-c search_path=${schema}`,
  });
  // As in postgres-store.ts: an 'error' event without a listener would end the process.
  pool.on('connect', (client) => client.on('error', (error) => options.onConnectionError?.(error)));
  pool.on('error', () => undefined);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    await migrateGatewayStore(db, 'postgres', schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect: 'postgres', isUnavailable: isPostgresUnavailable, close: () => db.destroy() };
}

/** The SQL store the configuration names; undefined for LOCAL_BACKEND_STORE=memory. */
export function openGatewayDatabase(
  store: StoreConfig,
  options: GatewayDatabaseOptions = {},
): Promise<GatewayDatabase> | undefined {
  switch (store.kind) {
    case 'memory':
      return undefined;
    case 'sqlite':
      return openSqliteGatewayDatabase({
        dataDir: store.dataDir,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
    case 'postgres':
      return openPostgresGatewayDatabase({
        connectionString: store.url,
        ...(options.onBackgroundError ? { onConnectionError: options.onBackgroundError } : {}),
      });
  }
}
