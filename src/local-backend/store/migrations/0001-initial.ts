import { type Kysely, sql } from 'kysely';
import { type SqlDialectName, USAGE_SLOTS } from '../sql-schema.ts';

/** Threads, their messages in database order, idempotency keys, and the storage-usage counter. */
export function initial(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('threads')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('tool_resources', 'text')
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();

      // SQLite: INTEGER PRIMARY KEY AUTOINCREMENT is the rowid and never reuses a deleted one.
      // PostgreSQL: an identity column, one sequence for every instance that shares the database.
      let messages = db.schema.createTable('messages');
      messages =
        dialect === 'sqlite'
          ? messages.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement())
          : messages.addColumn('seq', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity());
      await messages
        .addColumn('id', 'text', (column) => column.notNull().unique())
        .addColumn('thread_id', 'text', (column) => column.notNull().references('threads.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('content', 'text', (column) => column.notNull())
        .addColumn('attachments', 'text')
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('assistant_id', 'text')
        .addColumn('run_id', 'text')
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();
      // Serves pagination in both directions and the cascade on thread delete.
      await db.schema.createIndex('messages_thread_seq').on('messages').columns(['thread_id', 'seq']).execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('key', 'text', (column) => column.primaryKey())
        .addColumn('fingerprint', 'text', (column) => column.notNull())
        .addColumn('answer', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute();

      await db.schema
        .createTable('storage_usage')
        .addColumn('slot', 'integer', (column) => column.primaryKey())
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .execute();
      const slots = Array.from({ length: USAGE_SLOTS }, (_, slot) => sql`(${slot}, 0)`);
      await sql`insert into storage_usage (slot, bytes) values ${sql.join(slots)}`.execute(db);
    },
  };
}
