import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { openPostgresStore } from '../../src/local-backend/store/postgres-store.ts';
import { openSqliteStore } from '../../src/local-backend/store/sqlite-store.ts';
import type { Store } from '../../src/local-backend/store/store.ts';
import { dropSchema, POSTGRES_URL, postgresReachable, schemaName } from './postgres.ts';

export const hasPostgres = await postgresReachable();

/** One row per store: each test opens a fresh one, and `dispose` removes its data. */
export interface StoreImplementation {
  name: 'memory' | 'sqlite' | 'postgres';
  available: boolean;
  open(): Promise<{ store: Store; dispose(): Promise<void> }>;
}

/** Every store, for `describe.each`: memory, SQLite in a temporary DATA_DIR, PostgreSQL in its own schema. */
export const storeImplementations: StoreImplementation[] = [
  {
    name: 'memory',
    available: true,
    async open() {
      return { store: new MemoryStore(), dispose: async () => undefined };
    },
  },
  {
    name: 'sqlite',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
      const store = await openSqliteStore({ dataDir: join(dir, 'data') });
      return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    available: hasPostgres,
    async open() {
      const schema = schemaName();
      const store = await openPostgresStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 });
      return { store, dispose: () => dropSchema(schema) };
    },
  },
];
