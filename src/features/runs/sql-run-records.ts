import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Assistant } from '../../domain/assistant.ts';
import { ErrorCode, GatewayError } from '../../errors.ts';
import { type SqlDialectName, SqlWriter } from '../../sql/sql-writer.ts';
import {
  type GatewayDatabase,
  openPostgresGatewayDatabase,
  openSqliteGatewayDatabase,
} from '../gateway-store/open-gateway-database.ts';
import type { RecordListParams, RecordPage, RunRecord, RunRecords } from './run-records.ts';

type BigIntColumn = ColumnType<number | string, number, number>;

interface RecordsDatabase {
  gateway_runs: {
    seq: Generated<number | string>;
    id: string;
    thread_id: string;
    status: string;
    version: BigIntColumn;
    body: string;
  };
  gateway_assistants: { seq: Generated<number | string>; id: string; body: string };
}

/**
 * Runs and assistants on SQL, one Kysely layer for SQLite and PostgreSQL. Each record is one row
 * of JSON text (read back byte for byte) with the columns its queries select on; `seq` is the
 * database's creation order, stable across instances.
 */
export class SqlRunRecords implements RunRecords {
  readonly kind: SqlDialectName;
  readonly #db: Kysely<RecordsDatabase>;
  readonly #isUnavailable: (error: unknown) => boolean;
  /** Every write goes through it: on SQLite, the writes of one turn share one commit and one fsync. */
  readonly #writer: SqlWriter<RecordsDatabase>;

  readonly #close: () => Promise<void>;

  constructor(store: GatewayDatabase) {
    this.#db = store.db as Kysely<RecordsDatabase>;
    this.kind = store.dialect;
    this.#isUnavailable = store.isUnavailable;
    this.#writer = new SqlWriter(this.#db, store.dialect, store.durable ? { durable: store.durable } : {});
    this.#close = store.close;
  }

  /** A database that is not there answers UPSTREAM_UNAVAILABLE (try again later), like an upstream that is not. */
  async #run<T>(work: (db: Kysely<RecordsDatabase>) => Promise<T>): Promise<T> {
    try {
      return await work(this.#db);
    } catch (error) {
      if (this.#isUnavailable(error)) {
        throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway’s run store is not available.');
      }
      throw error;
    }
  }

  /** A write, answered once the commit that holds it is durable. */
  #write<T>(work: (db: Kysely<RecordsDatabase>) => Promise<T>): Promise<T> {
    return this.#run(() => this.#writer.write(work));
  }

  insertRun(run: RunRecord): Promise<void> {
    return this.#write(async (db) => {
      await db
        .insertInto('gateway_runs')
        .values({
          id: run.id,
          thread_id: run.threadId,
          status: run.status,
          version: run.version,
          body: JSON.stringify(run),
        })
        .execute();
    });
  }

  getRun(id: string): Promise<RunRecord | null> {
    return this.#run(async (db) => {
      const row = await db.selectFrom('gateway_runs').select('body').where('id', '=', id).executeTakeFirst();
      return row ? (JSON.parse(row.body) as RunRecord) : null;
    });
  }

  saveRun(run: RunRecord): Promise<boolean> {
    return this.#write(async (db) => {
      const result = await db
        .updateTable('gateway_runs')
        .set({ status: run.status, version: run.version, body: JSON.stringify(run) })
        .where('id', '=', run.id)
        .where('version', '=', run.version - 1)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  listRuns(threadId: string, params: RecordListParams): Promise<RecordPage<RunRecord>> {
    return this.#run(async (db) => {
      let query = db.selectFrom('gateway_runs').select('body').where('thread_id', '=', threadId);
      if (params.after !== undefined) {
        const after = db.selectFrom('gateway_runs').select('seq').where('id', '=', params.after);
        query = query.where('seq', params.order === 'asc' ? '>' : '<', after);
      }
      const rows = await query
        .orderBy('seq', params.order)
        .limit(params.limit + 1)
        .execute();
      return pageOf<RunRecord>(rows, params.limit);
    });
  }

  deleteRuns(threadId: string): Promise<void> {
    return this.#write(async (db) => {
      await db.deleteFrom('gateway_runs').where('thread_id', '=', threadId).execute();
    });
  }

  insertAssistant(assistant: Assistant): Promise<void> {
    return this.#write(async (db) => {
      await db
        .insertInto('gateway_assistants')
        .values({ id: assistant.id, body: JSON.stringify(assistant) })
        .execute();
    });
  }

  getAssistant(id: string): Promise<Assistant | null> {
    return this.#run(async (db) => {
      const row = await db.selectFrom('gateway_assistants').select('body').where('id', '=', id).executeTakeFirst();
      return row ? (JSON.parse(row.body) as Assistant) : null;
    });
  }

  replaceAssistant(assistant: Assistant): Promise<boolean> {
    return this.#write(async (db) => {
      const result = await db
        .updateTable('gateway_assistants')
        .set({ body: JSON.stringify(assistant) })
        .where('id', '=', assistant.id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  deleteAssistant(id: string): Promise<boolean> {
    return this.#write(async (db) => {
      const result = await db.deleteFrom('gateway_assistants').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    });
  }

  listAssistants(params: RecordListParams): Promise<RecordPage<Assistant>> {
    return this.#run(async (db) => {
      let query = db.selectFrom('gateway_assistants').select('body');
      if (params.after !== undefined) {
        const after = db.selectFrom('gateway_assistants').select('seq').where('id', '=', params.after);
        query = query.where('seq', params.order === 'asc' ? '>' : '<', after);
      }
      const rows = await query
        .orderBy('seq', params.order)
        .limit(params.limit + 1)
        .execute();
      return pageOf<Assistant>(rows, params.limit);
    });
  }

  async close(): Promise<void> {
    // Writes already accepted are committed before the database closes.
    await this.#writer.drained();
    await this.#close();
  }
}

/** A page from `limit + 1` rows of one keyset read: the extra row only says there is more. */
function pageOf<T>(rows: ReadonlyArray<{ body: string }>, limit: number): RecordPage<T> {
  return { data: rows.slice(0, limit).map((row) => JSON.parse(row.body) as T), hasMore: rows.length > limit };
}

/** The records in DATA_DIR's `gateway.db` (created owner-only, migrated); no DATA_DIR: in memory. */
export async function openSqliteRunRecords(
  options: { dataDir?: string; onWarning?: (message: string) => void } = {},
): Promise<SqlRunRecords> {
  return recordsOn(await openSqliteGatewayDatabase(options));
}

/** The records on PostgreSQL (DATABASE_URL), in `schema` (default `public`), migrated. */
export async function openPostgresRunRecords(options: {
  connectionString: string;
  schema?: string;
  onConnectionError?: (error: Error) => void;
}): Promise<SqlRunRecords> {
  return recordsOn(await openPostgresGatewayDatabase(options));
}

function recordsOn(store: GatewayDatabase): SqlRunRecords {
  return new SqlRunRecords(store);
}
