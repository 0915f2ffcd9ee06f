import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import { migrate } from './migrations/migrate.ts';
import type { StoreDatabase } from './sql-schema.ts';
import { SqlStore } from './sql-store.ts';

/** The file the embedded store keeps everything in, inside DATA_DIR. */
export const SQLITE_FILE = 'threads.db';

/**
 * `synchronous=FULL` with the WAL journal: every commit is fsynced to the WAL before the backend
 * answers, so an acknowledged write survives `kill -9` and a power loss or OS crash. (NORMAL would
 * also survive `kill -9`, but may drop the last commits on power loss.)
 */
export const SQLITE_SYNCHRONOUS = 'FULL';

/** How long a write waits for another connection's write (another process on the same file). */
export const BUSY_TIMEOUT_MS = 5_000;

/** SQLite result codes that mean "cannot write now" (disk full, I/O error, locked too long). */
export function isSqliteUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOTADB|CORRUPT)/.test(code)
  );
}

/** Most distinct statements kept prepared per connection (our queries have a few dozen shapes). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; better-sqlite3's prepared statements can be reused, and
 * preparing costs more than running a point query. Statements are cached by their SQL text.
 */
export function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text) {
      let statement = cache.get(text);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        statement = database.prepare(text);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

export interface SqliteStoreOptions {
  /** DATA_DIR: created with owner-only permissions if missing. Omit for an in-memory database. */
  dataDir?: string;
  /** A DATA_DIR that exists with permissions looser than owner-only (logged; it is left as it is). */
  onWarning?: (message: string) => void;
}

/**
 * DATA_DIR, ready for the database file. Only a directory made here gets its mode set (mkdir's mode
 * is masked by the umask): an existing one may be shared (`/tmp`, mode 1777), or a link to one, and
 * chmod follows links, so changing it would change what others rely on. A looser one is reported.
 */
export function prepareDataDir(dataDir: string, warn: (message: string) => void): void {
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) {
    // Made just now; still checked to be the directory itself, not a link put in its place.
    if (lstatSync(dataDir).isDirectory()) chmodSync(dataDir, 0o700);
    return;
  }
  const mode = statSync(dataDir).mode & 0o7777;
  if ((mode & 0o077) !== 0) {
    warn(
      `DATA_DIR ${dataDir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); the gateway leaves it as it is. Use a directory only it can read.`,
    );
  }
}

/**
 * The database file, created owner-only before SQLite opens it (SQLite would create it with the
 * umask's mode, 0644 by default); its -wal and -shm files take the database file's mode.
 */
export function createOwnerOnly(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
}

/** Opens (creating if needed) the SQLite store and applies pending migrations. */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqlStore> {
  let file = ':memory:';
  if (options.dataDir !== undefined) {
    prepareDataDir(options.dataDir, options.onWarning ?? (() => undefined));
    file = join(options.dataDir, SQLITE_FILE);
    createOwnerOnly(file);
  }
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  try {
    await migrate(db, 'sqlite');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (file === ':memory:') return new SqlStore(db, { dialect: 'sqlite', isUnavailable: isSqliteUnavailable });
  // A second connection for reads; an in-memory database has only the one.
  const readConnection = new Database(file, { readonly: true });
  readConnection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const reader = new Kysely<StoreDatabase>({
    dialect: new SqliteDialect({ database: withStatementCache(readConnection) }),
  });
  return new SqlStore(db, { dialect: 'sqlite', isUnavailable: isSqliteUnavailable, reader });
}
