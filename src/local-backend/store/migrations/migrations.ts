import type { Migration, MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../sql-schema.ts';
import { initial } from './0001-initial.ts';
import { idempotencyBytes } from './0002-idempotency-bytes.ts';
import { runs } from './0003-runs.ts';
import { responses } from './0004-responses.ts';
import { messageIncomplete } from './0005-message-incomplete.ts';
import { idempotencyClaims } from './0006-idempotency-claims.ts';

/**
 * Every schema change, in order. Kysely's migrator applies each once, records it in
 * `kysely_migration`, and holds a lock meanwhile (an advisory lock on PostgreSQL), so instances
 * that start together do not race. Add a change as the next number; never edit an applied one.
 */
export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-initial': initial(dialect),
    '0002-idempotency-bytes': idempotencyBytes(dialect),
    '0003-runs': runs(dialect),
    '0004-responses': responses(dialect),
    '0005-message-incomplete': messageIncomplete(),
    '0006-idempotency-claims': idempotencyClaims(),
  };
  return { getMigrations: async () => migrations };
}
