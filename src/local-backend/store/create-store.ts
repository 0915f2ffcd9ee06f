import type { LocalBackendConfig } from '../../config/config.ts';
import { MemoryStore } from './memory-store.ts';
import { openPostgresStore } from './postgres-store.ts';
import { withQuota } from './quota.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export interface CreateStoreOptions {
  /** Errors of PostgreSQL connections, idle or in use (logged; they never stop the process). */
  onBackgroundError?: (error: Error) => void;
  /** Warnings about the configuration found at open (a DATA_DIR open to other users). */
  onWarning?: (message: string) => void;
}

/**
 * The store the configuration names, migrated and behind the storage quota: SQLite in DATA_DIR by
 * default, PostgreSQL with DATABASE_URL, process memory with LOCAL_BACKEND_STORE=memory.
 */
export async function createStore(config: LocalBackendConfig, options: CreateStoreOptions = {}): Promise<Store> {
  const { store } = config;
  let opened: Store;
  switch (store.kind) {
    case 'postgres':
      opened = await openPostgresStore({
        connectionString: store.url,
        ...(options.onBackgroundError ? { onConnectionError: options.onBackgroundError } : {}),
      });
      break;
    case 'sqlite':
      opened = await openSqliteStore({
        dataDir: store.dataDir,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      break;
    case 'memory':
      opened = new MemoryStore();
      break;
  }
  return withQuota(opened, config.maxBytes);
}
