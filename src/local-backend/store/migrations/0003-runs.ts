import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-schema.ts';

/** Assistants, and runs that belong to a thread (deleted with it). */
export function runs(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      let assistants = db.schema.createTable('assistants');
      assistants =
        dialect === 'sqlite'
          ? assistants.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement())
          : assistants.addColumn('seq', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity());
      await assistants
        .addColumn('id', 'text', (column) => column.notNull().unique())
        .addColumn('body', 'text', (column) => column.notNull())
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();

      let runTable = db.schema.createTable('runs');
      runTable =
        dialect === 'sqlite'
          ? runTable.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement())
          : runTable.addColumn('seq', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity());
      await runTable
        .addColumn('id', 'text', (column) => column.notNull().unique())
        .addColumn('thread_id', 'text', (column) => column.notNull().references('threads.id').onDelete('cascade'))
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('body', 'text', (column) => column.notNull())
        .addColumn('rounds', 'text', (column) => column.notNull())
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();
      // Pages of a thread's runs, its active run, and the cascade on thread delete.
      await db.schema.createIndex('runs_thread_seq').on('runs').columns(['thread_id', 'seq']).execute();
      // The restart recovery finds runs left in flight without a full scan.
      await db.schema.createIndex('runs_status').on('runs').column('status').execute();
    },
  };
}
