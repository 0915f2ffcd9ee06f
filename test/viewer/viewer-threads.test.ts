import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testGateway } from '../helpers/gateway.ts';
import { createDatabase, dropDatabase, postgresReachable } from '../helpers/postgres.ts';
import { createThreads, type Made, newestFirst, type Served, served, walk } from './viewer-helpers.ts';

/**
 * "My threads" over real HTTP, on each SQL store of the gateway: two callers (GATEWAY_TOKENS=a,b)
 * create threads with metadata and page their lists both ways, with and without filters; a new
 * gateway on the same store finds the lists intact.
 */
let pgReachable = false;
beforeAll(async () => {
  pgReachable = await postgresReachable();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface StoreUnderTest {
  /** The environment of one gateway on the store; every call gives the same store. */
  env(): Promise<Record<string, string>>;
}

function sqliteStore(): StoreUnderTest {
  let dir: string | undefined;
  return {
    async env() {
      if (!dir) {
        const made = mkdtempSync(join(tmpdir(), 'viewer-'));
        dir = made;
        cleanups.push(async () => rmSync(made, { recursive: true, force: true }));
      }
      return { LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: dir };
    },
  };
}

function postgresStore(): StoreUnderTest {
  let url: string | undefined;
  return {
    async env() {
      if (!url) {
        const database = await createDatabase('viewer_test');
        url = database.url;
        cleanups.push(() => dropDatabase(database.name));
      }
      return { DATABASE_URL: url, LOCAL_BACKEND_STORE: 'postgres' };
    },
  };
}

async function gatewayOn(store: StoreUnderTest, env: Record<string, string> = {}): Promise<Served> {
  const app = await served(testGateway({ GATEWAY_TOKENS: 'a,b', ...(await store.env()), ...env }));
  cleanups.push(() => app.close());
  return app;
}

const metadataOf = (n: number) => ({ parity: n % 2 === 0 ? 'even' : 'odd', group: `g${n % 5}`, n: String(n) });

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('viewer.threads on %s', (name, makeStore) => {
  it('lists each caller’s threads both ways, with and without filters, and keeps them across a restart', async (context) => {
    if (name === 'postgres' && !pgReachable) context.skip();
    const store = makeStore();
    const app = await gatewayOn(store);
    const made: Record<'a' | 'b', Made[]> = {
      a: await createThreads(app, 'a', 150, metadataOf),
      b: await createThreads(app, 'b', 100, metadataOf),
    };
    const check = async (on: Served) => {
      for (const token of ['a', 'b'] as const) {
        const mine = made[token];
        const expected = newestFirst(mine);
        const forward = await walk(on, token, { size: 40 });
        expect(forward.ids).toEqual(expected);
        expect(forward.totalCount).toBe(mine.length);
        // Every page but the last is full.
        expect(forward.pages.slice(0, -1).every((count) => count === 40)).toBe(true);
        const backward = await walk(on, token, { backward: true, size: 33 });
        expect(backward.ids).toEqual(expected);
        const ascending = await walk(on, token, { size: 64, order: 'ASC' });
        expect(ascending.ids).toEqual([...expected].reverse());
        const filters: Array<Record<string, string>> = [
          { parity: 'even' },
          { parity: 'odd', group: 'g3' },
          { group: 'g9' },
        ];
        for (const filter of filters) {
          const wanted = newestFirst(
            mine.filter((thread) => Object.entries(filter).every(([key, value]) => thread.metadata[key] === value)),
          );
          const filtered = await walk(on, token, { size: 17, metadata: filter });
          expect(filtered.ids).toEqual(wanted);
          expect(filtered.totalCount).toBe(wanted.length);
          const back = await walk(on, token, { backward: true, size: 9, metadata: filter });
          expect(back.ids).toEqual(wanted);
        }
      }
      // No entry of one caller on the other's list.
      const a = new Set((await walk(on, 'a', { size: 100 })).ids);
      expect((await walk(on, 'b', { size: 100 })).ids.filter((id) => a.has(id))).toEqual([]);
    };
    await check(app);
    // A new gateway on the same store: the lists are intact.
    const again = await gatewayOn(store);
    await check(again);
  }, 120_000);
});
