import { type Kysely, Migrator } from 'kysely';
import type { SqlDialectName, StoreDatabase } from '../sql-schema.ts';
import { migrationProvider } from './migrations.ts';

/** Applies every migration not yet applied; throws with the failing one's name. */
export async function migrate(
  db: Kysely<StoreDatabase>,
  dialect: SqlDialectName,
  migrationTableSchema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed on ${dialect}`, { cause: error });
  }
}
