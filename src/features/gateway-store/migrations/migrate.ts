import { type Kysely, type Migration, Migrator } from 'kysely';
import type { SqlDialectName } from '../../../local-backend/store/sql-schema.ts';
import { gatewayRuns } from './0001-gateway-runs.ts';
import { gatewayThreadIndex } from './0002-gateway-thread-index.ts';

/**
 * The gateway's own schema changes, in order, recorded in `gateway_migration` (not the local
 * backend's `kysely_migration`: both may share one database). Kysely's migrator applies each once
 * under a lock (an advisory lock on PostgreSQL). Add a change as the next number; never edit one.
 */
export async function migrateGatewayStore(
  db: Kysely<unknown>,
  dialect: SqlDialectName,
  migrationTableSchema?: string,
): Promise<void> {
  const migrations: Record<string, Migration> = {
    '0001-gateway-runs': gatewayRuns(dialect),
    '0002-gateway-thread-index': gatewayThreadIndex(dialect),
  };
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'gateway_migration',
    migrationLockTableName: 'gateway_migration_lock',
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Gateway migration ${failed} failed on ${dialect}`, { cause: error });
  }
}
