import { Redis } from 'ioredis';
import { afterEach, describe, expect } from 'vitest';
import { GatewayError } from '../../../src/errors.ts';
import { IdempotentCreates } from '../../../src/features/idempotency/idempotent-creates.ts';
import { RedisIdempotencyStore } from '../../../src/features/idempotency/redis-store.ts';
import { RedisConnection } from '../../../src/features/redis/redis-connection.ts';
import type { Logger } from '../../../src/logger.ts';
import { silentLogger } from '../../helpers/gateway.ts';
import { freePort, hasRedisServer, itWhen, type ThrowawayRedis, throwawayRedis } from '../../helpers/redis.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../../helpers/test-upstream.ts';

const itWithRedisServer = itWhen(hasRedisServer, 'needs the redis-server binary (apt-get install redis-server)');
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger that keeps its error lines, to check that a lost claim is reported. */
function recordingLogger(): Logger & { errors: Array<{ message: string; fields?: Record<string, unknown> }> } {
  const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  return { ...silentLogger, errors, error: (message, fields) => errors.push({ message, fields }) };
}

type Outcome = { ok: true; id: string } | { ok: false; error: unknown };

describe('a claim lost while Redis stalls', () => {
  let redis: ThrowawayRedis | undefined;
  let upstream: TestUpstream | undefined;
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    redis?.resume();
    await closeAll(...open.splice(0), upstream);
    await redis?.kill();
  });

  itWithRedisServer(
    'two instances, one key, Redis stopped past the claim mid-create: one answer stored, one caller told "created"',
    async () => {
      redis = throwawayRedis(await freePort());
      await redis.start();
      // Creates take 2.5 s upstream, longer than the 1 s claim (below what the configuration allows).
      upstream = await startTestUpstream(async (request) => {
        if (request.method === 'POST') await delay(2_500);
        return { forward: true };
      });
      const upstreamUrl = upstream.url;
      const create = async (upstreamKey: string): Promise<{ id: string }> => {
        const response = await fetch(`${upstreamUrl}/threads`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer sk-test',
            'openai-beta': 'assistants=v2',
            'content-type': 'application/json',
            'idempotency-key': upstreamKey,
          },
          body: '{}',
        });
        return (await response.json()) as { id: string };
      };
      const loggers = [recordingLogger(), recordingLogger()];
      const [a, b] = loggers.map((logger) => {
        const connection = new RedisConnection({
          url: redis?.url ?? '',
          keyPrefix: 'fence:',
          timeoutMs: 200,
          logger: silentLogger,
        });
        open.push(connection);
        return new IdempotentCreates(new RedisIdempotencyStore(connection, { ttlMs: 60_000, perCaller: 10 }), {
          claimMs: 1_000,
          storeName: 'redis',
          logger,
        });
      }) as [IdempotentCreates, IdempotentCreates];
      const settle = (promise: Promise<{ id: string }>): Promise<Outcome> =>
        promise.then(
          (value) => ({ ok: true, id: value.id }),
          (error: unknown) => ({ ok: false, error }),
        );

      const first = settle(a.run('token:alice', 'order-1', { order: 1 }, create));
      while (upstream.count('POST') === 0) await delay(10);
      // Redis stalls longer than the claim while the first create is in flight: the claim expires.
      redis.pause();
      await delay(1_500);
      redis.resume();
      const second = settle(b.run('token:alice', 'order-1', { order: 1 }, create));
      const outcomes = await Promise.all([first, second]);

      // The stall did let a second create through upstream, with the same Idempotency-Key ...
      const posts = upstream.seen.filter((request) => request.method === 'POST');
      expect(posts).toHaveLength(2);
      expect(posts[0]?.headers['idempotency-key']).toBe(posts[1]?.headers['idempotency-key']);
      // ... but never two callers told "created" with different ids: the fenced holder says unknown.
      const created = outcomes.filter((outcome) => outcome.ok);
      expect(created).toHaveLength(1);
      const lost = outcomes.find((outcome) => !outcome.ok);
      expect(lost?.ok === false && lost.error).toBeInstanceOf(GatewayError);
      expect(lost?.ok === false && (lost.error as GatewayError).extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        reason: 'IDEMPOTENCY_CLAIM_LOST',
        outcome: 'unknown',
      });
      expect(loggers[0]?.errors.map((line) => line.message)).toEqual([
        'idempotency claim lost while creating: outcome reported as unknown',
      ]);

      // At most one answer stored for the key, and it is the one a caller was told.
      const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      try {
        const records = await client.keys('fence:idem:*');
        expect(records).toHaveLength(1);
        const stored = JSON.parse((await client.get(records[0] ?? '')) ?? 'null') as { value: { id: string } };
        expect(created[0]?.ok && stored.value.id).toBe(created[0]?.ok && created[0].id);
      } finally {
        client.disconnect();
      }
      // The fenced caller's retry with the same key gets that one answer, without a third create.
      expect(await a.run('token:alice', 'order-1', { order: 1 }, create)).toMatchObject({
        id: created[0]?.ok ? created[0].id : '',
      });
      expect(upstream.count('POST')).toBe(2);
    },
    30_000,
  );
});
