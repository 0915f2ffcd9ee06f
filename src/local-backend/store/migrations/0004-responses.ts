import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-schema.ts';

/** Responses (the Responses API), each with its conversation's id beside it. */
export function responses(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      let table = db.schema.createTable('responses');
      table =
        dialect === 'sqlite'
          ? table.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement())
          : table.addColumn('seq', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity());
      await table
        .addColumn('id', 'text', (column) => column.notNull().unique())
        .addColumn('conversation_id', 'text')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('body', 'text', (column) => column.notNull())
        .addColumn('input', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();
      // The restart recovery finds responses left in flight without a full scan.
      await db.schema.createIndex('responses_status').on('responses').column('status').execute();
    },
  };
}
