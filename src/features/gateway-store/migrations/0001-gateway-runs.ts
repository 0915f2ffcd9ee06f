import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../../../local-backend/store/sql-schema.ts';

/** The gateway's runs and assistants, in tables of their own (`gateway_…`) beside any local-backend tables. */
export function gatewayRuns(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const name of ['gateway_assistants', 'gateway_runs'] as const) {
        let table = db.schema.createTable(name);
        table =
          dialect === 'sqlite'
            ? table.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement())
            : table.addColumn('seq', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity());
        table = table.addColumn('id', 'text', (column) => column.notNull().unique());
        if (name === 'gateway_runs') {
          table = table
            .addColumn('thread_id', 'text', (column) => column.notNull())
            .addColumn('status', 'text', (column) => column.notNull())
            .addColumn('version', 'bigint', (column) => column.notNull());
        }
        await table.addColumn('body', 'text', (column) => column.notNull()).execute();
      }
      // A conversation's runs in creation order, and their removal with it.
      await db.schema.createIndex('gateway_runs_thread_seq').on('gateway_runs').columns(['thread_id', 'seq']).execute();
    },
  };
}
