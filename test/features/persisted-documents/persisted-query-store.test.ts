import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PersistedQueries } from '../../../src/features/persisted-documents/persisted-queries.ts';
import {
  MemoryPersistedQueryStore,
  type PersistedQueryBounds,
  type PersistedQueryStore,
} from '../../../src/features/persisted-documents/persisted-query-store.ts';
import { RedisPersistedQueryStore } from '../../../src/features/persisted-documents/redis-store.ts';
import { RedisConnection } from '../../../src/features/redis/redis-connection.ts';
import { silentLogger } from '../../helpers/gateway.ts';
import { freePort, hasRedis, REDIS_URL, testPrefix } from '../../helpers/redis.ts';
import { reportSkip } from '../../helpers/skips.ts';
import { sha256 } from './requests.ts';

const doc = (name: string, padding = 0) => `{ ${name}: __typename ${' '.repeat(padding)}}`;

interface Made {
  store: PersistedQueryStore;
  /** The keys the store left in Redis, with their TTLs (ms); none in memory. */
  keys(): Promise<Array<[string, number]>>;
  close(): Promise<void>;
}

const implementations: Array<[string, (bounds: PersistedQueryBounds) => Made]> = [
  [
    'memory',
    (bounds) => ({ store: new MemoryPersistedQueryStore(bounds), keys: async () => [], close: async () => undefined }),
  ],
];
if (hasRedis) {
  implementations.push([
    'redis',
    (bounds) => {
      const own = testPrefix();
      const redis = new RedisConnection({
        url: REDIS_URL,
        keyPrefix: own.prefix,
        timeoutMs: 1000,
        logger: silentLogger,
      });
      return {
        store: new RedisPersistedQueryStore(redis, bounds),
        async keys() {
          const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
          try {
            const keys = await client.keys(`${own.prefix}*`);
            return Promise.all(keys.map(async (key): Promise<[string, number]> => [key, await client.pttl(key)]));
          } finally {
            client.disconnect();
          }
        },
        close: async () => {
          await redis.close();
          await own.cleanup();
        },
      };
    },
  ]);
} else {
  reportSkip('persisted query store (redis)', 'no Redis on 127.0.0.1:6379');
}

describe.each(implementations)('the %s persisted query store', (kind, make) => {
  const open: Made[] = [];
  afterEach(async () => {
    for (const made of open.splice(0)) await made.close();
  });
  const made = (bounds: Partial<PersistedQueryBounds> = {}) => {
    const result = make({ maxEntries: 1000, maxBytes: 1024 * 1024, ttlMs: 60_000, ...bounds });
    open.push(result);
    return result;
  };
  const stored = async (store: PersistedQueryStore, names: string[]) =>
    Promise.all(names.map(async (name) => (await store.get(sha256(doc(name)))) !== undefined));

  it('returns what it was given, by hash, and nothing for a hash it was not', async () => {
    const { store } = made();
    await store.set(sha256(doc('a')), doc('a'));
    await store.set(sha256(doc('a')), doc('a'));
    expect(await store.get(sha256(doc('a')))).toBe(doc('a'));
    expect(await store.get(sha256(doc('b')))).toBeUndefined();
  });

  it('holds its entries bound: the least recently used go first', async () => {
    const { store } = made({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c']) await store.set(sha256(doc(name)), doc(name));
    await store.get(sha256(doc('a')));
    await store.set(sha256(doc('d')), doc('d'));
    expect(await stored(store, ['a', 'b', 'c', 'd'])).toEqual([true, false, true, true]);
  });

  it('holds its bytes bound, and never keeps a document larger than the bound', async () => {
    const { store } = made({ maxBytes: 200 });
    for (const name of ['a', 'b', 'c']) await store.set(sha256(doc(name, 70)), doc(name, 70));
    const present = await Promise.all(['a', 'b', 'c'].map((name) => store.get(sha256(doc(name, 70)))));
    expect(present.map((text) => text !== undefined)).toEqual([false, true, true]);
    await store.set(sha256(doc('big', 300)), doc('big', 300));
    expect(await store.get(sha256(doc('big', 300)))).toBeUndefined();
    expect(await store.get(sha256(doc('c', 70)))).toBe(doc('c', 70));
  });

  it('forgets a document unused for the TTL; its keys expire with it', async () => {
    const { store, keys } = made({ ttlMs: 300 });
    await store.set(sha256(doc('a')), doc('a'));
    const written = await keys();
    for (const [key, ttl] of written) {
      expect(key).toMatch(/apq:\{apq\}:/);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(300);
    }
    if (kind === 'redis') expect(written).toHaveLength(3);
    await sleep(400);
    expect(await store.get(sha256(doc('a')))).toBeUndefined();
    expect(await keys()).toEqual([]);
  });
});

describe('PersistedQueries without its Redis', () => {
  it('never throws: each instance answers from what it has seen itself', async () => {
    const redis = new RedisConnection({
      url: `redis://127.0.0.1:${await freePort()}`,
      keyPrefix: 'tgw-test:',
      timeoutMs: 100,
      logger: silentLogger,
    });
    const bounds = { maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 };
    const a = new PersistedQueries(bounds, new RedisPersistedQueryStore(redis, bounds), silentLogger);
    const b = new PersistedQueries(bounds, new RedisPersistedQueryStore(redis, bounds), silentLogger);
    const hash = sha256(doc('a'));
    expect(await a.get(hash)).toBeUndefined();
    await a.register(hash, doc('a'));
    expect(await a.get(hash)).toBe(doc('a'));
    expect(await b.get(hash)).toBeUndefined();
    await redis.close();
  });
});
