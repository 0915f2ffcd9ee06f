import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateThreadDocument,
  DeleteThreadDocument,
  GetThreadDocument,
  GetThreadsDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import {
  closeAll,
  type Reply,
  startServerKeyGateway,
  startTestUpstream,
  type TestUpstream,
} from '../helpers/test-upstream.ts';

/** Answers `faults` in order, then forwards everything to the real backend. */
function faultsThenForward(...faults: Reply[]): (request: unknown, index: number) => Reply {
  return (_request, index) => faults[index] ?? { forward: true };
}

describe('upstream faults: retries, deadlines, and never a lost or duplicated thread', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  const env = (extra: Record<string, string> = {}) => ({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.url,
    UPSTREAM_TIMEOUT_MS: '400',
    ...extra,
  });
  beforeEach(async () => {
    upstream = await startTestUpstream();
    gateway = testGateway(env());
  });
  afterEach(() => closeAll(gateway, upstream));

  for (const fault of [
    { status: 408 },
    { status: 409 },
    { status: 429 },
    { status: 500 },
    { status: 502 },
    { status: 503 },
    'drop-connection' as const,
    'hang' as const,
  ]) {
    it(`retries a read after ${typeof fault === 'string' ? fault : `HTTP ${fault.status}`}`, async () => {
      const id = (await upstream.store.createThread({})).id;
      upstream.handler = faultsThenForward(fault, fault);
      const result = await execute(gateway, GetThreadDocument, { id });
      expect(result.errors).toBeUndefined();
      expect(result.data?.thread?.id).toBe(id);
      expect(upstream.count('GET')).toBe(3);
    });
  }

  it('gives up on a read after UPSTREAM_MAX_RETRIES with the status’s code', async () => {
    upstream.handler = () => ({ status: 502 });
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
    expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
    expect(upstream.count('GET')).toBe(3);
    upstream.handler = () => ({ status: 429 });
    expect(codes(await execute(gateway, GetThreadDocument, { id: 'thread_x' }))).toEqual(['RATE_LIMITED']);
  });

  it('honours Retry-After', async () => {
    const id = (await upstream.store.createThread({})).id;
    upstream.handler = faultsThenForward({ status: 429, headers: { 'retry-after': '1' } });
    const result = await execute(gateway, GetThreadDocument, { id });
    expect(result.data?.thread?.id).toBe(id);
    const [first, second] = upstream.seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('does not wait out a Retry-After that ends past the request’s deadline', async () => {
    await gateway.close();
    gateway = testGateway(env({ REQUEST_DEADLINE_MS: '2000' }));
    upstream.handler = () => ({ status: 429, headers: { 'retry-after': '60' } });
    const started = performance.now();
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(codes(result)).toEqual(['RATE_LIMITED']);
    expect(upstream.count('GET')).toBe(1);
  });

  it('times out within about UPSTREAM_TIMEOUT_MS × attempts, then serves normally', async () => {
    upstream.handler = () => 'hang';
    const started = performance.now();
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
    const elapsed = performance.now() - started;
    expect(codes(result)).toEqual(['UPSTREAM_TIMEOUT']);
    expect(upstream.count('GET')).toBe(3);
    expect(elapsed).toBeGreaterThanOrEqual(1150);
    expect(elapsed).toBeLessThan(1200 + 2 * 400 + 500);
    upstream.handler = () => ({ forward: true });
    const id = (await upstream.store.createThread({})).id;
    expect((await execute(gateway, GetThreadDocument, { id })).data?.thread?.id).toBe(id);
  });

  it('holds a fan-out over a hung upstream to one deadline for the whole request', async () => {
    await gateway.close();
    gateway = testGateway(env({ REQUEST_DEADLINE_MS: '1000', UPSTREAM_TIMEOUT_MS: '600' }));
    upstream.handler = () => 'hang';
    const ids = Array.from({ length: 40 }, (_, index) => `thread_${index}`);
    const started = performance.now();
    const result = await execute(gateway, GetThreadsDocument, { ids });
    // 4 waves x 3 attempts x 600 ms would be 7.2 s.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.data?.threads).toHaveLength(40);
    expect(new Set(codes(result))).toEqual(new Set(['UPSTREAM_TIMEOUT']));
  });

  for (const [name, spoil, code] of [
    ['a 500 after the upstream created it', { forward: true, spoil: { status: 500 } } as Reply, 'UPSTREAM_ERROR'],
    ['a lost reply', { forward: true, spoil: 'drop-connection' } as Reply, 'UPSTREAM_UNAVAILABLE'],
    ['a reply that never comes', { forward: true, spoil: 'hang' } as Reply, 'UPSTREAM_TIMEOUT'],
    ['a 502 from a proxy in front of it', { forward: true, spoil: { status: 502 } } as Reply, 'UPSTREAM_ERROR'],
  ] as const) {
    it(`never sends createThread twice after ${name}: one thread, outcome "unknown"`, async () => {
      upstream.handler = faultsThenForward(spoil);
      const result = await execute(gateway, CreateThreadDocument, { input: { metadata: { n: '1' } } });
      expect(codes(result)).toEqual([code]);
      expect(result.errors?.[0]?.extensions?.outcome).toBe('unknown');
      expect(upstream.count('POST', /^\/v1\/threads$/)).toBe(1);
      expect(upstream.store.threadCount).toBe(1);
    });
  }

  it('retries createThread after a 429, which proves nothing was created', async () => {
    upstream.handler = faultsThenForward({ status: 429 });
    const result = await execute(gateway, CreateThreadDocument, {});
    expect(result.errors).toBeUndefined();
    expect(upstream.count('POST')).toBe(2);
    expect(upstream.store.threadCount).toBe(1);
  });

  it('says outcome "not_created" when the upstream refused the create outright', async () => {
    upstream.handler = () => ({ status: 400, body: { error: { message: 'no', param: 'metadata' } } });
    const result = await execute(gateway, CreateThreadDocument, {});
    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      outcome: 'not_created',
      upstreamParam: 'metadata',
    });
    expect(upstream.count('POST')).toBe(1);
  });

  it('retries createThread on a refused connection', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1`;
    const late = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: url });
    // The first attempt finds nothing listening; the upstream comes up during the backoff.
    const pending = execute(late, CreateThreadDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 40));
    const lateUpstream = await startTestUpstream(undefined, { port });
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(lateUpstream.store.threadCount).toBe(1);
    await late.close();
    await lateUpstream.close();
  });

  it('counts a delete that finds 404 on its retry as deleted', async () => {
    const id = (await upstream.store.createThread({})).id;
    upstream.handler = faultsThenForward({ forward: true, spoil: { status: 503 } });
    const result = await execute(gateway, DeleteThreadDocument, { id });
    expect(result.errors).toBeUndefined();
    expect(result.data?.deleteThread).toEqual({ id, deleted: true });
    expect(upstream.count('DELETE')).toBe(2);
  });

  it('retries an update after a 503', async () => {
    const id = (await upstream.store.createThread({})).id;
    upstream.handler = faultsThenForward({ status: 503 });
    const result = await execute(gateway, UpdateThreadDocument, { id, input: { metadata: { a: 'b' } } });
    expect(result.data?.updateThread.metadata).toEqual({ a: 'b' });
    expect(upstream.count('POST')).toBe(2);
  });
});

describe('createThread idempotencyKey', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ GATEWAY_TOKENS: 'alice,bob', UPSTREAM_TIMEOUT_MS: '300' }));
  });
  afterEach(() => closeAll(gateway, upstream));
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const input = { metadata: { order: '42' }, idempotencyKey: 'order-42' };

  it('returns the thread first created for a key, without creating another', async () => {
    const first = await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    const second = await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    expect(second.data?.createThread.id).toBe(first.data?.createThread.id);
    expect(upstream.count('POST')).toBe(1);
    expect(upstream.store.threadCount).toBe(1);
  });

  it('shares one upstream create between concurrent tries with one key', async () => {
    upstream.handler = async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { forward: true };
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => execute(gateway, CreateThreadDocument, { input }, as('alice'))),
    );
    expect(new Set(results.map((result) => result.data?.createThread.id)).size).toBe(1);
    expect(upstream.count('POST')).toBe(1);
  });

  it('scopes keys to the caller', async () => {
    const alice = await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    const bob = await execute(gateway, CreateThreadDocument, { input }, as('bob'));
    expect(alice.data?.createThread.id).not.toBe(bob.data?.createThread.id);
    expect(upstream.store.threadCount).toBe(2);
  });

  it('refuses a reused key with a different input', async () => {
    await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    const other = await execute(
      gateway,
      CreateThreadDocument,
      { input: { ...input, metadata: { order: '43' } } },
      as('alice'),
    );
    expect(codes(other)).toEqual(['IDEMPOTENCY_CONFLICT']);
    expect(upstream.store.threadCount).toBe(1);
  });

  it('after an unknown outcome, a retry with the same key returns the one thread that was created', async () => {
    upstream.handler = faultsThenForward({ forward: true, spoil: { status: 500 } });
    const lost = await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    expect(lost.errors?.[0]?.extensions?.outcome).toBe('unknown');
    const retried = await execute(gateway, CreateThreadDocument, { input }, as('alice'));
    expect(retried.errors).toBeUndefined();
    expect(upstream.store.threadCount).toBe(1);
    expect(await upstream.store.getThread(retried.data?.createThread.id ?? '')).toBeDefined();
    const keys = upstream.seen
      .filter((request) => request.method === 'POST')
      .map((request) => request.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(String(keys[0])).not.toContain('order-42');
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
