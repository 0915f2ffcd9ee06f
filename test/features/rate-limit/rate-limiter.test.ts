import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/app.ts';
import { CreateThreadDocument, GetThreadsDocument } from '../../helpers/documents.ts';
import { codes, execute, testGateway } from '../../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, startTestUpstream, type TestUpstream } from '../../helpers/test-upstream.ts';

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('RATE_LIMIT_PER_MINUTE, in memory', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(() => closeAll(gateway, upstream));

  it('refuses the N+1th upstream call with RATE_LIMITED and retryAfter, and sends nothing upstream for it', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ GATEWAY_TOKENS: 'alice', RATE_LIMIT_PER_MINUTE: '3' }));
    for (let index = 0; index < 3; index++) {
      expect((await execute(gateway, CreateThreadDocument, {}, as('alice'))).errors).toBeUndefined();
    }
    const refused = await execute(gateway, CreateThreadDocument, {}, as('alice'));
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    const retryAfter = refused.errors?.[0]?.extensions?.retryAfter;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.errors?.[0]?.extensions?.limit).toBe(3);
    expect(upstream.count('POST')).toBe(3);
  });

  it('counts each upstream call of a batched read, and refuses only the calls past the limit', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ GATEWAY_TOKENS: 'alice', RATE_LIMIT_PER_MINUTE: '3' }));
    const ids = await Promise.all(Array.from({ length: 5 }, async () => (await upstream.store.createThread({})).id));
    const result = await execute(gateway, GetThreadsDocument, { ids }, as('alice'));
    expect(result.data?.threads.filter(Boolean)).toHaveLength(3);
    expect(codes(result)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(upstream.count('GET')).toBe(3);
  });

  it('GATEWAY_TOKENS token:N gives a token its own limit; the others have RATE_LIMIT_PER_MINUTE, each counted apart', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      GATEWAY_TOKENS: 'alice:2,bob',
      RATE_LIMIT_PER_MINUTE: '4',
    }));
    const run = async (token: string, times: number) => {
      const out: unknown[][] = [];
      for (let index = 0; index < times; index++)
        out.push(codes(await execute(gateway, CreateThreadDocument, {}, as(token))));
      return out;
    };
    expect(await run('alice', 3)).toEqual([[], [], ['RATE_LIMITED']]);
    expect(await run('bob', 5)).toEqual([[], [], [], [], ['RATE_LIMITED']]);
    expect(upstream.count('POST')).toBe(2 + 4);
  });

  it('a token with its own limit is limited even without RATE_LIMIT_PER_MINUTE, and the rest are not', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ GATEWAY_TOKENS: 'alice:1,bob' }));
    expect(codes(await execute(gateway, CreateThreadDocument, {}, as('alice')))).toEqual([]);
    expect(codes(await execute(gateway, CreateThreadDocument, {}, as('alice')))).toEqual(['RATE_LIMITED']);
    for (let index = 0; index < 20; index++) {
      expect(codes(await execute(gateway, CreateThreadDocument, {}, as('bob')))).toEqual([]);
    }
  });

  it('pass-through: each caller key is its own caller', async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url, RATE_LIMIT_PER_MINUTE: '1' });
    expect(codes(await execute(gateway, CreateThreadDocument, {}, as('sk-one-0000001')))).toEqual([]);
    expect(codes(await execute(gateway, CreateThreadDocument, {}, as('sk-one-0000001')))).toEqual(['RATE_LIMITED']);
    expect(codes(await execute(gateway, CreateThreadDocument, {}, as('sk-two-0000002')))).toEqual([]);
    expect(upstream.count('POST')).toBe(2);
  });
});
