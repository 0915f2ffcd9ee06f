import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../src/local-backend/store/postgres-store.ts';
import { openSqliteStore, SQLITE_FILE } from '../src/local-backend/store/sqlite-store.ts';
import type { Store } from '../src/local-backend/store/store.ts';

// Memory of a process whose store holds ever more threads: it must stay flat, since nothing is
// loaded or sorted in JavaScript. STORE_THREADS (20000) threads of 3 messages each, in 10 steps;
// prints one JSON line per step. DATABASE_URL (with PG_SCHEMA) measures PostgreSQL instead.
// Run: node --expose-gc --import tsx scripts/store-memory.ts
const total = Number(process.env.STORE_THREADS ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const dir = mkdtempSync(join(tmpdir(), 'store-memory-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const store: Store = process.env.DATABASE_URL
  ? await openPostgresStore({ connectionString: process.env.DATABASE_URL, schema: process.env.PG_SCHEMA ?? 'public' })
  : await openSqliteStore({ dataDir: dir });

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const text = (value: string) => ({ role: 'user', content: [{ type: 'text', text: { value, annotations: [] } }] });
const started = Date.now();
let last = '';
for (let step = 1; step <= 10; step++) {
  const target = (total * step) / 10;
  for (let n = (total * (step - 1)) / 10; n < target; n += 50) {
    const made = await Promise.all(
      Array.from({ length: Math.min(50, target - n) }, (_, i) =>
        store.createThread({ metadata: { n: String(n + i) }, messages: [text('a'.repeat(200)), text('b'), text('c')] }),
      ),
    );
    last = made.at(-1)?.id ?? last;
  }
  gc();
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await store.listMessages(last, { limit: 20, order: 'desc' });
  const listMs = (performance.now() - t0) / 200;
  const memory = process.memoryUsage();
  console.log(
    JSON.stringify({
      threads: target,
      heapUsedMb: mb(memory.heapUsed),
      rssMb: mb(memory.rss),
      usedBytesMb: mb(await store.usedBytes()),
      fileMb: process.env.DATABASE_URL ? undefined : mb(statSync(join(dir, SQLITE_FILE)).size),
      listMessagesMs: Math.round(listMs * 1000) / 1000,
      elapsedS: Math.round((Date.now() - started) / 100) / 10,
    }),
  );
}
await store.close();
