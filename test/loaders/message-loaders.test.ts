import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageLoaders } from '../../src/loaders/message-loaders.ts';
import { RequestBudget } from '../../src/upstream/calls/request-budget.ts';
import { UpstreamHealth } from '../../src/upstream/detection/health.ts';
import { RequestUpstream } from '../../src/upstream/request-scoped-api.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';
import { ThreadsRestApi } from '../../src/upstream/threads-rest/threads-rest-api.ts';
import { seedThread, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/** The message loaders of one request, over the real adapter and HTTP, counting what reaches the upstream. */
describe('message loaders: a page answers later reads of its messages, a write forgets its thread', () => {
  let upstream: TestUpstream;
  let transport: ReturnType<typeof createUpstreamTransport>;
  let api: ThreadsRestApi;
  let threadId = '';
  let ids: string[] = [];

  beforeAll(async () => {
    upstream = await startTestUpstream();
    transport = createUpstreamTransport();
    api = new ThreadsRestApi({
      baseURL: upstream.url,
      apiKey: 'sk-test',
      fetch: transport.fetch,
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    ({ id: threadId, messageIds: ids } = await seedThread(upstream, 3));
  });

  afterAll(async () => {
    await transport.close();
    await upstream.close();
  });

  function requestLoaders(): MessageLoaders {
    const health = new UpstreamHealth(async () => ({ ok: true, detail: 'test' }));
    const session = { credential: undefined, deadline: Date.now() + 10_000, budget: new RequestBudget(10, 100) };
    return new MessageLoaders(new RequestUpstream(api, session, health));
  }

  const messageGets = () => upstream.count('GET', /\/messages\/msg_/);
  const listGets = () => upstream.count('GET', /\/messages\?/);

  it('reads a message a page carried without a call of its own, and the first page’s copy wins', async () => {
    const loaders = requestLoaders();
    const before = { messages: messageGets(), lists: listGets() };
    const page = await loaders.page(threadId, { limit: 10, order: 'asc' });
    expect(page?.data.map((message) => message.id)).toEqual(ids);
    const read = await loaders.message(threadId, ids[1] ?? '');
    expect(read).toBe(page?.data[1]);
    // A second page carrying the same message does not replace what this request already read.
    await loaders.page(threadId, { limit: 1, order: 'desc' });
    expect(await loaders.message(threadId, ids[2] ?? '')).toBe(page?.data[2]);
    expect(messageGets() - before.messages).toBe(0);
    expect(listGets() - before.lists).toBe(2);
  });

  it('reads a message no page carried with one call, once', async () => {
    const loaders = requestLoaders();
    const before = messageGets();
    const [first, again] = await Promise.all([
      loaders.message(threadId, ids[0] ?? ''),
      loaders.message(threadId, ids[0] ?? ''),
    ]);
    expect(first?.id).toBe(ids[0]);
    expect(again).toBe(first);
    expect(messageGets() - before).toBe(1);
  });

  it('after a write to the thread, reads its messages and pages again', async () => {
    const loaders = requestLoaders();
    await loaders.page(threadId, { limit: 10, order: 'asc' });
    const before = { messages: messageGets(), lists: listGets() };
    loaders.forgetThread(threadId);
    expect((await loaders.message(threadId, ids[1] ?? ''))?.id).toBe(ids[1]);
    await loaders.page(threadId, { limit: 10, order: 'asc' });
    expect(messageGets() - before.messages).toBe(1);
    expect(listGets() - before.lists).toBe(1);
  });

  it('answers a written message (or a deleted one, null) from the write, with no call', async () => {
    const loaders = requestLoaders();
    const page = await loaders.page(threadId, { limit: 10, order: 'asc' });
    const before = messageGets();
    const written = { ...(page?.data[0] as NonNullable<typeof page>['data'][number]), metadata: { edited: 'yes' } };
    loaders.forgetThread(threadId);
    loaders.primeWritten(threadId, written.id, written);
    expect(await loaders.message(threadId, written.id)).toBe(written);
    loaders.primeWritten(threadId, ids[2] ?? '', null);
    expect(await loaders.message(threadId, ids[2] ?? '')).toBeNull();
    expect(messageGets() - before).toBe(0);
  });
});
