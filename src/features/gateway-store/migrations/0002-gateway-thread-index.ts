import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../../../local-backend/store/sql-schema.ts';

/**
 * Each caller's list of threads ("My threads"). `gateway_thread_index` holds one row per caller and
 * thread; its index (caller_id, created_at, thread_id) serves "this caller, newest first, after the
 * cursor" as one range. The metadata filter reads `gateway_thread_index_metadata`, one row per
 * pair, whose index (caller_id, key, value, created_at, thread_id) serves "this caller's threads
 * with key = value, newest first, after the cursor" as one range too: neither query reads another
 * caller's rows. `gateway_secret` keeps the deployment's key for hashing caller ids.
 */
export function gatewayThreadIndex(dialect: SqlDialectName): Migration {
  const bigint = dialect === 'sqlite' ? 'integer' : 'bigint';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('gateway_secret')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('value', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('gateway_thread_index')
        .addColumn('caller_id', 'text', (column) => column.notNull())
        .addColumn('thread_id', 'text', (column) => column.notNull())
        .addColumn('created_at', bigint, (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('gateway_thread_index_pk', ['caller_id', 'thread_id'])
        .execute();
      await db.schema
        .createIndex('gateway_thread_index_caller_created')
        .on('gateway_thread_index')
        .columns(['caller_id', 'created_at', 'thread_id'])
        .execute();
      // deleteThread and updateThread reach every caller's entry of one thread.
      await db.schema
        .createIndex('gateway_thread_index_thread')
        .on('gateway_thread_index')
        .column('thread_id')
        .execute();
      await db.schema
        .createTable('gateway_thread_index_metadata')
        .addColumn('caller_id', 'text', (column) => column.notNull())
        .addColumn('thread_id', 'text', (column) => column.notNull())
        .addColumn('key', 'text', (column) => column.notNull())
        .addColumn('value', 'text', (column) => column.notNull())
        .addColumn('created_at', bigint, (column) => column.notNull())
        .addPrimaryKeyConstraint('gateway_thread_index_metadata_pk', ['caller_id', 'thread_id', 'key'])
        .execute();
      await db.schema
        .createIndex('gateway_thread_index_metadata_filter')
        .on('gateway_thread_index_metadata')
        .columns(['caller_id', 'key', 'value', 'created_at', 'thread_id'])
        .execute();
      await db.schema
        .createIndex('gateway_thread_index_metadata_thread')
        .on('gateway_thread_index_metadata')
        .column('thread_id')
        .execute();
    },
  };
}
