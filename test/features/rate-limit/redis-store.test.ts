import { afterEach, describe, expect } from 'vitest';
import { CreateThreadDocument, GetThreadDocument } from '../../helpers/documents.ts';
import { codes, execute } from '../../helpers/gateway.ts';
import { itWithRedis, twoGatewaysOnRedis } from '../../helpers/redis.ts';
import { closeAll } from '../../helpers/test-upstream.ts';

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('rate limits in Redis, shared by instances', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(() => closeAll(...open.splice(0)));

  async function twoInstances(env: Record<string, string>) {
    const instances = await twoGatewaysOnRedis(env);
    open.push(instances);
    return instances;
  }

  itWithRedis(
    'one caller’s limit counts its calls through both instances; the N+1th is refused on either',
    async () => {
      const { a, b, upstream } = await twoInstances({ GATEWAY_TOKENS: 'alice', RATE_LIMIT_PER_MINUTE: '4' });
      for (const gateway of [a, b, a, b]) {
        expect(codes(await execute(gateway, CreateThreadDocument, {}, as('alice')))).toEqual([]);
      }
      for (const gateway of [a, b]) {
        const refused = await execute(gateway, CreateThreadDocument, {}, as('alice'));
        expect(codes(refused)).toEqual(['RATE_LIMITED']);
        expect(refused.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
        expect(refused.errors?.[0]?.extensions?.retryAfter).toBeLessThanOrEqual(60);
      }
      expect(upstream.count('POST')).toBe(4);
    },
  );

  itWithRedis('per-token limits hold across instances, each token counted apart', async () => {
    const { a, b, upstream } = await twoInstances({ GATEWAY_TOKENS: 'alice:1,bob:3' });
    expect(codes(await execute(a, CreateThreadDocument, {}, as('alice')))).toEqual([]);
    expect(codes(await execute(b, CreateThreadDocument, {}, as('alice')))).toEqual(['RATE_LIMITED']);
    const bob = [];
    for (const gateway of [b, a, b, a]) bob.push(codes(await execute(gateway, CreateThreadDocument, {}, as('bob'))));
    expect(bob).toEqual([[], [], [], ['RATE_LIMITED']]);
    expect(upstream.count('POST')).toBe(1 + 3);
  });

  itWithRedis('concurrent calls never let more than the limit through', async () => {
    const { a, b, upstream } = await twoInstances({ GATEWAY_TOKENS: 'alice', RATE_LIMIT_PER_MINUTE: '10' });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => execute(index % 2 ? a : b, CreateThreadDocument, {}, as('alice'))),
    );
    expect(results.filter((result) => result.errors === undefined)).toHaveLength(10);
    expect(upstream.count('POST')).toBe(10);
  });

  itWithRedis(
    'a caller over its limit never passes its refusal to another caller reading the same thread',
    async () => {
      const { a, upstream } = await twoInstances({ GATEWAY_TOKENS: 'alice:1,bob' });
      const id = (await upstream.store.createThread({})).id;
      expect(codes(await execute(a, GetThreadDocument, { id }, as('alice')))).toEqual([]);
      for (let round = 0; round < 20; round++) {
        const [alice, bob] = await Promise.all([
          execute(a, GetThreadDocument, { id }, as('alice')),
          execute(a, GetThreadDocument, { id }, as('bob')),
        ]);
        expect(codes(alice)).toEqual(['RATE_LIMITED']);
        expect(codes(bob)).toEqual([]);
        expect(bob.data?.thread?.id).toBe(id);
      }
    },
  );
});
