import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createLocalBackend, type LocalBackend, type LocalBackendOptions } from '../../src/local-backend/backend.ts';
import type { RunOptions } from '../../src/local-backend/runs/routes.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { openPostgresStore } from '../../src/local-backend/store/postgres-store.ts';
import { openSqliteStore } from '../../src/local-backend/store/sqlite-store.ts';
import type { Store } from '../../src/local-backend/store/store.ts';
import { dropSchema, POSTGRES_URL, schemaName } from './postgres.ts';

/** One store dialect: `open` opens the same data again (a restart) until `dispose`. */
export interface StoreKind {
  name: 'memory' | 'sqlite' | 'postgres';
  create(): Promise<{ open(): Promise<Store>; dispose(): Promise<void> }>;
}

export const STORE_KINDS: StoreKind[] = [
  {
    name: 'memory',
    async create() {
      const store = new MemoryStore();
      return { open: async () => store, dispose: async () => undefined };
    },
  },
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'runs-test-'));
      return {
        open: () => openSqliteStore({ dataDir: join(dir, 'data') }),
        dispose: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      const schema = schemaName('runs_test');
      return {
        open: () => openPostgresStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 }),
        dispose: () => dropSchema(schema),
      };
    },
  },
];

export interface ServedBackend {
  backend: LocalBackend;
  store: Store;
  client: OpenAI;
  url: string;
  /** Stops runs, the server and the store (the store's data stays until the kind's dispose). */
  close(): Promise<void>;
}

/** A local backend on a free port over `store`, and the real openai SDK pointed at it. */
export async function serveRunBackend(
  store: Store,
  runs: RunOptions = {},
  options: Pick<LocalBackendOptions, 'streams'> = {},
): Promise<ServedBackend> {
  const backend = createLocalBackend({ store, runs, ...options });
  const served = await serveLocalBackend(backend);
  const client = new OpenAI({ apiKey: 'sk-local', baseURL: served.url, maxRetries: 0 });
  return {
    backend,
    store,
    client,
    url: served.url,
    async close() {
      await served.close();
      await backend.stop();
      await store.close();
    },
  };
}

/** A create POSTed to a local backend under an Idempotency-Key (the SDK's own headers), its status and JSON. */
export function postKeyed(base: string, path: string, body: unknown, key: string) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer sk-local',
      'openai-beta': 'assistants=v2',
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  }).then(async (answer) => ({ status: answer.status, body: (await answer.json()) as { id?: string } }));
}

/** Polls `read` until `done` holds (or fails after `timeoutMs`), returning the last value. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
