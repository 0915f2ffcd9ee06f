import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { GetThreadDocument, UpdateThreadDocument } from '../helpers/documents.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

const slowGets = (ms: number) => async (request: { method: string }) => {
  if (request.method === 'GET') await new Promise((resolve) => setTimeout(resolve, ms));
  return { forward: true as const };
};

describe('coalescing identical in-flight reads across requests', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ GATEWAY_TOKENS: 'a,b' }, slowGets(150)));
  });
  afterEach(() => closeAll(gateway, upstream));

  it('lets concurrent requests with one upstream credential share one GET', async () => {
    const id = (await upstream.store.createThread({ metadata: { v: '1' } })).id;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        execute(gateway, GetThreadDocument, { id }, { authorization: `Bearer ${index % 2 ? 'a' : 'b'}` }),
      ),
    );
    for (const result of results) expect(result.data?.thread?.metadata).toEqual({ v: '1' });
    expect(upstream.count('GET')).toBe(1);
  });

  it('never lets a read that starts after a write has finished join a GET that started before it', async () => {
    const id = (await upstream.store.createThread({ metadata: { v: 'old' } })).id;
    const early = execute(gateway, GetThreadDocument, { id }, { authorization: 'Bearer a' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const updated = await execute(
      gateway,
      UpdateThreadDocument,
      { id, input: { metadata: { v: 'new' } } },
      {
        authorization: 'Bearer a',
      },
    );
    expect(updated.data?.updateThread.metadata).toEqual({ v: 'new' });
    const late = await execute(gateway, GetThreadDocument, { id }, { authorization: 'Bearer b' });
    expect(late.data?.thread?.metadata).toEqual({ v: 'new' });
    await early;
    expect(upstream.count('GET')).toBe(2);
  });

  it('reads for itself when the GET it joined was stopped by the other request’s call budget', async () => {
    await gateway.close();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, MAX_UPSTREAM_CALLS: '2' });
    const first = (await upstream.store.createThread({})).id;
    const second = (await upstream.store.createThread({})).id;
    let failedOnce = false;
    upstream.handler = async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (request.path.endsWith(second) && !failedOnce) {
        failedOnce = true;
        return { status: 500 };
      }
      return { forward: true };
    };
    // Two ids within its budget of 2, but the 500 on `second` needs a third call for the retry.
    const greedy = execute(gateway, `{ a: thread(id: "${first}") { id } b: thread(id: "${second}") { id } }`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const modest = execute(gateway, GetThreadDocument, { id: second });
    const [greedyResult, own] = await Promise.all([greedy, modest]);
    expect(greedyResult.errors?.[0]?.extensions?.code).toBe('UPSTREAM_CALL_LIMIT');
    expect(own.errors).toBeUndefined();
    expect(own.data?.thread?.id).toBe(second);
  });
});
