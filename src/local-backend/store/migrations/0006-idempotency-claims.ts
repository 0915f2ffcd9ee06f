import type { Kysely } from 'kysely';

/**
 * Who is creating under an `Idempotency-Key` right now: one row per key in flight, so processes that
 * share the database do not create twice (`SqlIdempotency.claim`).
 */
export function idempotencyClaims() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('idempotency_claims')
        .addColumn('key', 'text', (column) => column.primaryKey())
        .addColumn('holder', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute();
    },
  };
}
