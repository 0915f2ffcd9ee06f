import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/app.ts';
import { CreateThreadDocument } from '../../helpers/documents.ts';
import { codes, execute } from '../../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../../helpers/test-upstream.ts';

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const keyed = (key: string, order = key) => ({ input: { metadata: { order }, idempotencyKey: key } });

describe('idempotency keys: a quota per caller, in memory', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(() => closeAll(gateway, upstream));

  it("one caller's keyed creates never evict another caller's key: past its quota they are RATE_LIMITED", async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      GATEWAY_TOKENS: 'alice,bob',
      IDEMPOTENCY_MAX_KEYS: '10',
      IDEMPOTENCY_KEYS_PER_CALLER: '5',
    }));
    const first = await execute(gateway, CreateThreadDocument, keyed('alice-order'), as('alice'));
    const aliceId = first.data?.createThread.id;
    expect(aliceId).toMatch(/^thread_/);

    const bob = [];
    for (let index = 0; index < 12; index++) {
      bob.push(await execute(gateway, CreateThreadDocument, keyed(`bob-${index}`), as('bob')));
    }
    expect(bob.slice(0, 5).every((result) => result.errors === undefined)).toBe(true);
    for (const refused of bob.slice(5)) {
      expect(codes(refused)).toEqual(['RATE_LIMITED']);
      const extensions = refused.errors?.[0]?.extensions ?? {};
      expect(extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEYS_PER_CALLER', limit: 5, outcome: 'not_created' });
      expect(extensions.retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.errors?.[0]?.message).toContain('IDEMPOTENCY_KEYS_PER_CALLER');
    }
    expect(upstream.count('POST')).toBe(1 + 5);

    // Alice's retry finds her thread: nothing was evicted, nothing duplicated.
    const retried = await execute(gateway, CreateThreadDocument, keyed('alice-order'), as('alice'));
    expect(retried.data?.createThread.id).toBe(aliceId);
    // Bob's own remembered keys still answer, and his creates without a key are not limited.
    const bobRetry = await execute(gateway, CreateThreadDocument, keyed('bob-0'), as('bob'));
    expect(bobRetry.data?.createThread.id).toBe(bob[0]?.data?.createThread.id);
    const unkeyed = await execute(gateway, CreateThreadDocument, {}, as('bob'));
    expect(unkeyed.errors).toBeUndefined();
    expect(upstream.count('POST')).toBe(1 + 5 + 1);
    expect(upstream.store.threadCount).toBe(7);
  });

  it('a full store refuses new keys instead of evicting anyone', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      GATEWAY_TOKENS: 'alice,bob,carol',
      IDEMPOTENCY_MAX_KEYS: '4',
      IDEMPOTENCY_KEYS_PER_CALLER: '3',
    }));
    const alice = await execute(gateway, CreateThreadDocument, keyed('a'), as('alice'));
    for (const key of ['b1', 'b2', 'b3']) {
      expect((await execute(gateway, CreateThreadDocument, keyed(key), as('bob'))).errors).toBeUndefined();
    }
    const carol = await execute(gateway, CreateThreadDocument, keyed('c'), as('carol'));
    expect(codes(carol)).toEqual(['RATE_LIMITED']);
    expect(carol.errors?.[0]?.extensions).toMatchObject({ reason: 'IDEMPOTENCY_MAX_KEYS', limit: 4 });
    const again = await execute(gateway, CreateThreadDocument, keyed('a'), as('alice'));
    expect(again.data?.createThread.id).toBe(alice.data?.createThread.id);
    expect(upstream.count('POST')).toBe(4);
  });

  it('a key whose create failed for sure does not count against the quota', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      GATEWAY_TOKENS: 'alice',
      IDEMPOTENCY_KEYS_PER_CALLER: '1',
    }));
    upstream.handler = (_request, index) =>
      index === 0 ? { status: 400, body: { error: { message: 'no' } } } : { forward: true };
    const refused = await execute(gateway, CreateThreadDocument, keyed('first'), as('alice'));
    expect(refused.errors).toBeDefined();
    expect(codes(refused)).not.toContain('RATE_LIMITED');
    const next = await execute(gateway, CreateThreadDocument, keyed('second'), as('alice'));
    expect(next.errors).toBeUndefined();
  });
});

describe('idempotency keys: remembered results are bounded in bytes, not only in keys', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(() => closeAll(gateway, upstream));

  it('large keyed createMessage results count against the caller’s share of IDEMPOTENCY_MAX_BYTES', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      GATEWAY_TOKENS: 'alice,bob',
      IDEMPOTENCY_MAX_BYTES: String(4 * 1024 * 1024),
      IDEMPOTENCY_MAX_KEYS: '100',
      IDEMPOTENCY_KEYS_PER_CALLER: '10',
    }));
    // A tenth of the keys is a tenth of the bytes: about 419 KB each for alice and bob.
    const thread = await execute(gateway, CreateThreadDocument, { input: {} }, as('alice'));
    const threadId = thread.data?.createThread.id ?? '';
    const create = `mutation($t: ID!, $c: JSON!, $k: String) {
      createMessage(threadId: $t, input: { role: USER, content: $c }, idempotencyKey: $k) { id }
    }`;
    const content = 'x'.repeat(200_000);
    const results = [];
    for (let index = 0; index < 6; index++) {
      results.push(await execute(gateway, create, { t: threadId, c: content, k: `big-${index}` }, as('alice')));
    }
    const made = results.filter((result) => result.errors === undefined);
    expect(made).toHaveLength(3);
    for (const refused of results.slice(3)) {
      expect(codes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        reason: 'IDEMPOTENCY_BYTES_PER_CALLER',
        outcome: 'not_created',
      });
    }
    expect(upstream.count('POST', /\/messages$/)).toBe(3);
    // Another caller is untouched, and alice's remembered results still answer.
    const bob = await execute(gateway, create, { t: threadId, c: content, k: 'big-0' }, as('bob'));
    expect(bob.errors).toBeUndefined();
    const replay = await execute(gateway, create, { t: threadId, c: content, k: 'big-0' }, as('alice'));
    expect(replay.data).toEqual(results[0]?.data);
    // Creates without a key are not affected.
    expect((await execute(gateway, create, { t: threadId, c: content }, as('alice'))).errors).toBeUndefined();
  });
});
