import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateGatewayStore } from '../../../src/features/gateway-store/migrations/migrate.ts';
import { GATEWAY_SQLITE_FILE } from '../../../src/features/gateway-store/open-gateway-database.ts';
import { openSqlThreadIndex, SqlThreadIndex } from '../../../src/features/thread-index/sql-thread-index.ts';
import { isSqliteUnavailable } from '../../../src/local-backend/store/sqlite-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The index on a fresh `gateway.db` (WAL, synchronous=FULL), with every COMMIT the database ran counted. */
async function countedIndex() {
  const dataDir = mkdtempSync(join(tmpdir(), 'thread-index-'));
  dirs.push(dataDir);
  const database = new Database(join(dataDir, GATEWAY_SQLITE_FILE));
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  const counted = { commits: 0 };
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database }),
    log: (event) => {
      if (event.level === 'query' && event.query.sql === 'commit') counted.commits += 1;
    },
  });
  await migrateGatewayStore(db, 'sqlite');
  const index = await SqlThreadIndex.on({
    db,
    dialect: 'sqlite',
    isUnavailable: isSqliteUnavailable,
    close: () => db.destroy(),
  });
  counted.commits = 0;
  return { index, counted, dataDir };
}

const entry = (n: number) => ({
  threadId: `thread_${String(n).padStart(24, '0')}`,
  createdAt: 1_800_000_000 + n,
  metadata: { n: String(n), even: String(n % 2 === 0) },
});

describe('the thread index on SQLite', () => {
  it('commits concurrent writes together, each acknowledged only once durable, each checked in turn', async () => {
    const { index, counted, dataDir } = await countedIndex();
    const writes = 300;
    const outcomes = await Promise.all(Array.from({ length: writes }, (_, n) => index.add('caller-a', entry(n), 250)));
    // The bound is checked write by write inside the group: exactly 250 fit.
    expect(outcomes.filter((outcome) => outcome === 'added')).toHaveLength(250);
    expect(outcomes.filter((outcome) => outcome === 'full')).toHaveLength(50);
    // One commit (one fsync) per group of up to 64 writes, not one per write.
    expect(counted.commits).toBeGreaterThanOrEqual(1);
    expect(counted.commits).toBeLessThanOrEqual(Math.ceil(writes / 64));

    // Updates, removals and forgets of one turn are grouped too.
    counted.commits = 0;
    await Promise.all([
      ...Array.from({ length: 50 }, (_, n) => index.updateMetadata(entry(n).threadId, { n: 'updated' })),
      ...Array.from({ length: 50 }, (_, n) => index.removeThread(entry(50 + n).threadId)),
      ...Array.from({ length: 50 }, (_, n) => index.forget('caller-a', entry(100 + n).threadId)),
    ]);
    expect(counted.commits).toBeLessThanOrEqual(Math.ceil(150 / 64));
    await index.close();

    // Everything acknowledged is in the file a new process opens.
    const reopened = await openSqlThreadIndex({ kind: 'sqlite', dataDir });
    if (!reopened) throw new Error('no SQL index');
    expect(await reopened.count('caller-a', {})).toBe(150);
    expect(await reopened.count('caller-a', { n: 'updated' })).toBe(50);
    await reopened.close();
  });

  it('commits every write accepted before close, and answers each one', async () => {
    const { index, dataDir } = await countedIndex();
    const pending = Array.from({ length: 100 }, (_, n) => index.add('caller-b', entry(n), 1_000));
    await index.close();
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 100 }, () => 'added'));
    const reopened = await openSqlThreadIndex({ kind: 'sqlite', dataDir });
    if (!reopened) throw new Error('no SQL index');
    expect(await reopened.count('caller-b', {})).toBe(100);
    await reopened.close();
  });

  it('on gateway.db as the gateway opens it (WAL synced off the event loop): every acknowledged add is there after reopening', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'thread-index-'));
    dirs.push(dataDir);
    const index = await openSqlThreadIndex({ kind: 'sqlite', dataDir });
    if (!index) throw new Error('no SQL index');
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, n) => index.add('caller-c', entry(n), 1_000)));
    expect(outcomes.every((outcome) => outcome === 'added')).toBe(true);
    expect(await index.count('caller-c', {})).toBe(200);
    await index.close();
    const reopened = await openSqlThreadIndex({ kind: 'sqlite', dataDir });
    expect(await reopened?.count('caller-c', {})).toBe(200);
    await reopened?.close();
  });
});
