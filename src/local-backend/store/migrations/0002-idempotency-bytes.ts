import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-schema.ts';

/**
 * Remembered idempotency answers count against the storage quota: each row keeps its bytes (what
 * expiring it gives back), and the rows already stored are counted once, now.
 */
export function idempotencyBytes(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('idempotency_keys')
        .addColumn('bytes', 'bigint', (column) => column.notNull().defaultTo(0))
        .execute();
      // The same measure as `idempotencyBytes` in stored-bytes.ts: answer, fingerprint, key, in bytes.
      const octets = (column: string) =>
        dialect === 'postgres' ? sql`octet_length(${sql.ref(column)})` : sql`length(cast(${sql.ref(column)} as blob))`;
      await sql`update idempotency_keys set bytes = ${octets('answer')} + ${octets('fingerprint')} + 64`.execute(db);
      await sql`update storage_usage set bytes = bytes + (select coalesce(sum(bytes), 0) from idempotency_keys)
        where slot = 0`.execute(db);
    },
  };
}
