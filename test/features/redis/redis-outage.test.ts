import { afterEach, describe, expect } from 'vitest';
import type { Gateway } from '../../../src/app.ts';
import { CreateMessageDocument, CreateThreadDocument, GetThreadDocument } from '../../helpers/documents.ts';
import { codes, execute, testGateway } from '../../helpers/gateway.ts';
import { freePort, hasRedisServer, itWhen, type ThrowawayRedis, throwawayRedis } from '../../helpers/redis.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../../helpers/test-upstream.ts';

const itWithRedisServer = itWhen(hasRedisServer, 'needs the redis-server binary (apt-get install redis-server)');
const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Redis stopped mid-run', () => {
  let redis: ThrowawayRedis | undefined;
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await closeAll(gateway, upstream);
    await redis?.kill();
  });

  itWithRedisServer(
    'keyed creates fail with UPSTREAM_UNAVAILABLE naming the store, the rest keeps working, and it recovers by itself',
    async () => {
      redis = throwawayRedis(await freePort());
      await redis.start();
      upstream = await startTestUpstream();
      gateway = testGateway({
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        GATEWAY_TOKENS: 'alice',
        REDIS_URL: redis.url,
        REDIS_TIMEOUT_MS: '200',
        RATE_LIMIT_PER_MINUTE: '1000',
      });
      const keyed = (key: string) => ({ input: { metadata: { key }, idempotencyKey: key } });
      const before = await execute(gateway, CreateThreadDocument, keyed('before'), as('alice'));
      expect(before.errors).toBeUndefined();
      expect(await gateway.checkSharedState()).toEqual({ ok: true, detail: 'redis: ok' });

      await redis.kill();
      const posts = upstream.count('POST');
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = performance.now();
        const refused = await execute(gateway, CreateThreadDocument, keyed(`during-${attempt}`), as('alice'));
        expect(performance.now() - started).toBeLessThan(1_500);
        expect(codes(refused)).toEqual(['UPSTREAM_UNAVAILABLE']);
        expect(refused.errors?.[0]?.message).toContain('idempotency store (redis)');
        expect(refused.errors?.[0]?.extensions).toMatchObject({ store: 'redis', outcome: 'not_created' });
      }
      const threadId = before.data?.createThread.id ?? '';
      const message = { threadId, input: { role: 'USER' as const, content: 'hi' } };
      const keyedMessage = await execute(
        gateway,
        CreateMessageDocument,
        { ...message, idempotencyKey: 'm' },
        as('alice'),
      );
      expect(codes(keyedMessage)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(keyedMessage.errors?.[0]?.message).toContain('idempotency store (redis)');
      // Never created without the key's protection.
      expect(upstream.count('POST')).toBe(posts);
      expect((await execute(gateway, CreateMessageDocument, message, as('alice'))).errors).toBeUndefined();

      // Everything else keeps working, rate limits included (counted per instance meanwhile).
      const unkeyed = await execute(gateway, CreateThreadDocument, {}, as('alice'));
      expect(unkeyed.errors).toBeUndefined();
      const read = await execute(gateway, GetThreadDocument, { id: before.data?.createThread.id ?? '' }, as('alice'));
      expect(read.errors).toBeUndefined();
      expect(read.data?.thread?.id).toBe(before.data?.createThread.id);
      const verdict = await gateway.checkSharedState();
      expect(verdict.ok).toBe(false);
      expect(verdict.detail).toMatch(/^redis: unreachable/);
      expect(verdict.detail).not.toContain(redis.url);

      // Redis returns: the gateway reconnects by itself.
      await redis.start();
      const until = Date.now() + 10_000;
      while (!(await gateway.checkSharedState()).ok) {
        if (Date.now() > until) throw new Error('the gateway did not reconnect to Redis within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const after = await execute(gateway, CreateThreadDocument, keyed('after'), as('alice'));
      expect(after.errors).toBeUndefined();
      const retried = await execute(gateway, CreateThreadDocument, keyed('after'), as('alice'));
      expect(retried.data?.createThread.id).toBe(after.data?.createThread.id);
    },
    40_000,
  );

  itWithRedisServer(
    'a Redis that stops answering: keyed creates fail within the timeout, rate-limited reads go on, then it recovers',
    async () => {
      redis = throwawayRedis(await freePort());
      await redis.start();
      upstream = await startTestUpstream();
      gateway = testGateway({
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        REDIS_URL: redis.url,
        REDIS_TIMEOUT_MS: '200',
        RATE_LIMIT_PER_MINUTE: '1000',
      });
      const id = (await upstream.store.createThread({})).id;
      expect((await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'a' } })).errors).toBeUndefined();
      redis.pause();
      let started = performance.now();
      const refused = await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'b' } });
      expect(codes(refused)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(performance.now() - started).toBeLessThan(1_000);
      started = performance.now();
      for (let index = 0; index < 10; index++) {
        expect((await execute(gateway, GetThreadDocument, { id })).data?.thread?.id).toBe(id);
      }
      // At most one call in a second waits for the hung store; the rest count in memory.
      expect(performance.now() - started).toBeLessThan(1_500);
      redis.resume();
      const until = Date.now() + 10_000;
      while (!(await gateway.checkSharedState()).ok) {
        if (Date.now() > until) throw new Error('the gateway did not get Redis back within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The refused try's claim ran late, when Redis answered again, and was dropped: 'b' is free at once.
      started = performance.now();
      expect((await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'b' } })).errors).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(2_000);
    },
  );

  itWithRedisServer(
    'a gateway started while Redis is down serves everything but keyed creates, then recovers',
    async () => {
      redis = throwawayRedis(await freePort());
      upstream = await startTestUpstream();
      gateway = testGateway({
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        REDIS_URL: redis.url,
        REDIS_TIMEOUT_MS: '200',
      });
      const refused = await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'k' } });
      expect(codes(refused)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect((await execute(gateway, CreateThreadDocument, {})).errors).toBeUndefined();
      expect(upstream.count('POST')).toBe(1);
      await redis.start();
      const until = Date.now() + 10_000;
      while (!(await gateway.checkSharedState()).ok) {
        if (Date.now() > until) throw new Error('the gateway did not connect to Redis within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'k' } })).errors).toBeUndefined();
    },
  );
});
