import { createHash } from 'node:crypto';
import { afterEach, describe, expect } from 'vitest';
import type { IdempotencyClaim, IdempotencySlot } from '../../../src/features/idempotency/idempotency-store.ts';
import { IdempotentCreates } from '../../../src/features/idempotency/idempotent-creates.ts';
import { RedisIdempotencyStore } from '../../../src/features/idempotency/redis-store.ts';
import { RedisConnection } from '../../../src/features/redis/redis-connection.ts';
import { CreateMessageDocument, CreateThreadDocument } from '../../helpers/documents.ts';
import { codes, execute, silentLogger, testGateway } from '../../helpers/gateway.ts';
import { startProcess } from '../../helpers/process.ts';
import { countKeys, itWithRedis, REDIS_URL, testPrefix, twoGatewaysOnRedis } from '../../helpers/redis.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../../helpers/test-upstream.ts';

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until the holder's create has reached the upstream: it holds the claim by then. */
async function untilPosted(upstream: TestUpstream): Promise<void> {
  while (upstream.count('POST') === 0) await delay(5);
}

describe('idempotency keys in Redis, across gateway instances', () => {
  const open: Array<{ close(): Promise<void> } | undefined> = [];
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await closeAll(...open.splice(0));
    await cleanup?.();
    cleanup = undefined;
  });

  /** Two replicas on one Redis prefix (and one upstream), both taking the tokens of alice and bob. */
  async function twoInstances(env: Record<string, string> = {}) {
    const instances = await twoGatewaysOnRedis({ GATEWAY_TOKENS: 'alice,bob', ...env });
    open.push(instances);
    return instances;
  }

  itWithRedis('50 concurrent creates with one key, spread over two instances, make exactly one thread', async () => {
    const { a, b, upstream } = await twoInstances();
    upstream.handler = async () => {
      await delay(100);
      return { forward: true };
    };
    const input = { metadata: { order: '42' }, idempotencyKey: 'order-42' };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        execute(index % 2 === 0 ? a : b, CreateThreadDocument, { input }, as('alice')),
      ),
    );
    expect(results.flatMap(codes)).toEqual([]);
    const ids = new Set(results.map((result) => result.data?.createThread.id));
    expect(ids.size).toBe(1);
    expect(upstream.count('POST')).toBe(1);
    expect(upstream.store.threadCount).toBe(1);
    // Later retries through either instance return it too, still without an upstream call.
    const later = await execute(b, CreateThreadDocument, { input }, as('alice'));
    expect(later.data?.createThread.id).toBe([...ids][0]);
    expect(upstream.count('POST')).toBe(1);
  });

  itWithRedis(
    'a different input under the same key is IDEMPOTENCY_CONFLICT on the other instance, held or settled',
    async () => {
      const { a, b, upstream } = await twoInstances();
      upstream.handler = async () => {
        await delay(150);
        return { forward: true };
      };
      const input = { metadata: { order: '1' }, idempotencyKey: 'k' };
      const first = execute(a, CreateThreadDocument, { input }, as('alice'));
      await untilPosted(upstream);
      const whileHeld = await execute(
        b,
        CreateThreadDocument,
        { input: { ...input, metadata: { order: '2' } } },
        as('alice'),
      );
      expect(codes(whileHeld)).toEqual(['IDEMPOTENCY_CONFLICT']);
      expect((await first).errors).toBeUndefined();
      const afterwards = await execute(
        b,
        CreateThreadDocument,
        { input: { ...input, metadata: { order: '3' } } },
        as('alice'),
      );
      expect(codes(afterwards)).toEqual(['IDEMPOTENCY_CONFLICT']);
      // Another caller's same key is its own.
      const bob = await execute(b, CreateThreadDocument, { input: { ...input, metadata: { order: '3' } } }, as('bob'));
      expect(bob.errors).toBeUndefined();
      expect(upstream.count('POST')).toBe(2);
    },
  );

  itWithRedis('createMessage: 20 concurrent tries with one key over two instances add one message', async () => {
    const { a, b, upstream } = await twoInstances();
    const threadId = (await upstream.store.createThread({})).id;
    upstream.handler = async () => {
      await delay(50);
      return { forward: true };
    };
    const variables = { threadId, input: { role: 'USER' as const, content: 'hello' }, idempotencyKey: 'msg-1' };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        execute(index % 2 ? a : b, CreateMessageDocument, variables, as('alice')),
      ),
    );
    expect(results.flatMap(codes)).toEqual([]);
    expect(new Set(results.map((result) => result.data?.createMessage.id)).size).toBe(1);
    expect(upstream.count('POST', /\/messages$/)).toBe(1);
  });

  itWithRedis('the per-caller quota holds across instances and never touches another caller', async () => {
    const { a, b, upstream } = await twoInstances({ IDEMPOTENCY_KEYS_PER_CALLER: '3' });
    const keyed = (key: string) => ({ input: { idempotencyKey: key } });
    const bobFirst = await execute(b, CreateThreadDocument, keyed('bob-1'), as('bob'));
    for (const [index, gateway] of [a, b, a].entries()) {
      expect(
        (await execute(gateway, CreateThreadDocument, keyed(`alice-${index}`), as('alice'))).errors,
      ).toBeUndefined();
    }
    const refused = await execute(b, CreateThreadDocument, keyed('alice-3'), as('alice'));
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEYS_PER_CALLER', limit: 3 });
    expect(refused.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(60);
    const bobAgain = await execute(a, CreateThreadDocument, keyed('bob-1'), as('bob'));
    expect(bobAgain.data?.createThread.id).toBe(bobFirst.data?.createThread.id);
    expect(upstream.count('POST')).toBe(4);
  });

  itWithRedis('records and claims expire: nothing is left in Redis without a TTL', async () => {
    const { a, prefix } = await twoInstances();
    await execute(a, CreateThreadDocument, { input: { idempotencyKey: 'ttl' } }, as('alice'));
    const { Redis } = await import('ioredis');
    const client = new Redis(REDIS_URL);
    try {
      const keys = await client.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  itWithRedis("a crashed holder's claim expires: another try takes it over", async () => {
    const own = testPrefix();
    cleanup = own.cleanup;
    const redis = new RedisConnection({ url: REDIS_URL, keyPrefix: own.prefix, timeoutMs: 500, logger: silentLogger });
    open.push(redis);
    const store = new RedisIdempotencyStore(redis, { ttlMs: 60_000, perCaller: 10 });
    const slot: IdempotencySlot = { callerId: 'token:x', key: createHash('sha256').update('k').digest('hex') };
    const holder: IdempotencyClaim = { token: 'holder', fingerprint: 'f', ms: 300 };
    const other: IdempotencyClaim = { token: 'other', fingerprint: 'f', ms: 300 };
    expect(await store.claim(slot, holder)).toEqual({ kind: 'claimed', generation: 1 });
    // The holder is gone: it never renews, settles or releases.
    expect(await store.claim(slot, other)).toEqual({ kind: 'held', fingerprint: 'f' });
    await delay(350);
    expect(await store.claim(slot, other)).toEqual({ kind: 'claimed', generation: 2 });
    expect(await store.renew(slot, holder)).toBe(false);
    // A late settle by the old holder is fenced off by the newer generation, created or not.
    expect(
      await store.settle(
        slot,
        { ...holder, generation: 1 },
        { state: 'created', fingerprint: 'f', value: { id: 'x' } },
      ),
    ).toBe(false);
    expect(
      await store.settle(
        slot,
        { ...other, generation: 2 },
        { state: 'created', fingerprint: 'f', value: { id: 'thread_1' } },
      ),
    ).toBe(true);
    expect(await store.settle(slot, { ...holder, generation: 1 }, { state: 'unknown', fingerprint: 'f' })).toBe(false);
    expect(await store.claim(slot, holder)).toEqual({
      kind: 'settled',
      record: { state: 'created', fingerprint: 'f', value: { id: 'thread_1' } },
    });
    // The record, the caller's key set and the slot's generation.
    expect(await countKeys(own.prefix)).toBe(3);
  });

  itWithRedis(
    'a gateway killed while creating: after IDEMPOTENCY_CLAIM_MS another instance creates, once',
    async () => {
      const own = testPrefix();
      cleanup = own.cleanup;
      // The first POST never answers (the killed instance's create is lost); later ones are served.
      const upstream = await startTestUpstream((request) =>
        request.method === 'POST' && upstream.count('POST') === 1 ? 'hang' : { forward: true },
      );
      open.push(upstream);
      const env = {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        GATEWAY_TOKENS: 'alice',
        REDIS_URL,
        REDIS_KEY_PREFIX: own.prefix,
        // A claim must outlive the longest create: one attempt of at most a second.
        UPSTREAM_TIMEOUT_MS: '1000',
        UPSTREAM_MAX_RETRIES: '0',
        IDEMPOTENCY_CLAIM_MS: '1000',
      };
      const doomed = startProcess('src/main.ts', { ...env, PORT: '0' });
      try {
        const [, url] = (await doomed.waitFor(/GraphiQL at (http:\/\/[^\s"]+)/)) ?? [];
        const input = { metadata: { order: '7' }, idempotencyKey: 'order-7' };
        void fetch(String(url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...as('alice') },
          body: JSON.stringify({
            query: 'mutation($input: CreateThreadInput) { createThread(input: $input) { id } }',
            variables: { input },
          }),
        }).catch(() => undefined);
        const until = Date.now() + 10_000;
        while (upstream.count('POST') === 0) {
          if (Date.now() > until) throw new Error(`the instance never created; its output:\n${doomed.output()}`);
          await delay(10);
        }
        doomed.child.kill('SIGKILL');
        await doomed.exited;

        const survivor = testGateway(env);
        open.unshift(survivor);
        const started = Date.now();
        const result = await execute(survivor, CreateThreadDocument, { input }, as('alice'));
        expect(result.errors).toBeUndefined();
        // It waited for the dead claim to expire (at most a claim's life), not for a deadline.
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(upstream.count('POST')).toBe(2);
        expect(upstream.store.threadCount).toBe(1);
        const keys = upstream.seen
          .filter((request) => request.method === 'POST')
          .map((r) => r.headers['idempotency-key']);
        expect(keys[0]).toBe(keys[1]);
        const again = await execute(survivor, CreateThreadDocument, { input }, as('alice'));
        expect(again.data?.createThread.id).toBe(result.data?.createThread.id);
      } finally {
        doomed.child.kill('SIGKILL');
      }
    },
    30_000,
  );

  itWithRedis('a live holder renews its claim: a create slower than the claim is still made once', async () => {
    // Below the gateway's configuration (which keeps a claim at least as long as a create may
    // take): two instances' IdempotentCreates on one Redis prefix, with a claim a quarter of the create.
    const own = testPrefix();
    cleanup = own.cleanup;
    const instance = () => {
      const redis = new RedisConnection({
        url: REDIS_URL,
        keyPrefix: own.prefix,
        timeoutMs: 500,
        logger: silentLogger,
      });
      open.push(redis);
      return new IdempotentCreates(new RedisIdempotencyStore(redis, { ttlMs: 60_000, perCaller: 10 }), {
        claimMs: 300,
        storeName: 'redis',
      });
    };
    const [a, b] = [instance(), instance()];
    let made = 0;
    const create = async () => {
      made++;
      await delay(1_200);
      return { id: `thread_${made}` };
    };
    const first = a.run('token:alice', 'slow-but-alive', {}, create);
    await delay(100);
    const second = await b.run('token:alice', 'slow-but-alive', {}, create);
    expect(second).toEqual(await first);
    expect(made).toBe(1);
  });

  itWithRedis('a try that waits past its deadline for another holder times out with a coded error', async () => {
    const { a, upstream, prefix } = await twoInstances({ REQUEST_DEADLINE_MS: '5000' });
    // The waiting instance has a shorter deadline than the holder's create takes.
    const impatient = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      GATEWAY_TOKENS: 'alice',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      REQUEST_DEADLINE_MS: '300',
    });
    open.unshift(impatient);
    upstream.handler = async () => {
      await delay(1_000);
      return { forward: true };
    };
    const input = { idempotencyKey: 'slow' };
    const first = execute(a, CreateThreadDocument, { input }, as('alice'));
    await untilPosted(upstream);
    const started = performance.now();
    const waiting = await execute(impatient, CreateThreadDocument, { input }, as('alice'));
    expect(performance.now() - started).toBeLessThan(900);
    expect(codes(waiting)).toEqual(['UPSTREAM_TIMEOUT']);
    expect(waiting.errors?.[0]?.extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEY_IN_USE', outcome: 'unknown' });
    expect((await first).errors).toBeUndefined();
    expect(upstream.count('POST')).toBe(1);
  });
});
