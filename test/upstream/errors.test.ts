import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateMessageDocument,
  CreateThreadDocument,
  GetThreadDocument,
  GetThreadsDocument,
  ThreadMessagesDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

const KEY = 'sk-proj-SECRETSECRETSECRET1234';

describe('upstream failures become coded GraphQL errors with the gateway’s own messages', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({
      OPENAI_API_KEY: KEY,
      UPSTREAM_MAX_RETRIES: '0',
      UPSTREAM_TIMEOUT_MS: '300',
    }));
  });
  afterEach(() => closeAll(gateway, upstream));

  const cases: Array<[number, string]> = [
    [400, 'BAD_USER_INPUT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [429, 'RATE_LIMITED'],
    [500, 'UPSTREAM_ERROR'],
    [502, 'UPSTREAM_ERROR'],
    [503, 'UPSTREAM_UNAVAILABLE'],
  ];
  for (const [status, code] of cases) {
    it(`maps HTTP ${status} to ${code}, never passing the upstream message through`, async () => {
      const leaky = `Incorrect API key provided: ${KEY.slice(0, 12)}***. Internal detail 42.`;
      upstream.handler = () => ({
        status,
        body: { error: { message: leaky, type: 'x', param: null, code: null } },
        headers: { 'x-request-id': 'req_upstream_123' },
      });
      const result = await execute(gateway, GetThreadDocument, { id: 'thread_abc' });
      expect(codes(result)).toEqual([code]);
      expect(result.errors?.[0]?.extensions?.upstreamRequestId).toBe('req_upstream_123');
      expect(result.errors?.[0]?.extensions?.upstreamStatus).toBe(status);
      const text = JSON.stringify(result);
      expect(text).not.toContain('Incorrect API key');
      expect(text).not.toContain(KEY.slice(0, 12));
      expect(text).not.toContain('Internal detail');
    });
  }

  it('passes on an upstream request id only when it looks like one: no upstream text rides in extensions', async () => {
    const leaky = `Incorrect API key provided: ${KEY} <script>alert(1)</script>`;
    upstream.handler = () => ({ status: 500, body: { error: { message: 'x' } }, headers: { 'x-request-id': leaky } });
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_abc' });
    expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
    expect(result.errors?.[0]?.extensions?.upstreamRequestId).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain(KEY.slice(0, 12));
    upstream.handler = () => ({ status: 500, body: {}, headers: { 'x-request-id': 'x'.repeat(8000) } });
    const long = await execute(gateway, GetThreadDocument, { id: 'thread_abc' });
    expect(long.errors?.[0]?.extensions?.upstreamRequestId).toBeUndefined();
  });

  it('never passes on a key-shaped x-request-id as upstreamRequestId', async () => {
    for (const echoed of [KEY, 'sk-caller-key-echoed-back', 'sess-abcdefghijkl', 'rk_live_abcdefgh']) {
      upstream.handler = () => ({ status: 500, body: {}, headers: { 'x-request-id': echoed } });
      const result = await execute(gateway, GetThreadDocument, { id: 'thread_abc' });
      expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
      expect(result.errors?.[0]?.extensions?.upstreamRequestId, echoed).toBeUndefined();
      expect(JSON.stringify(result)).not.toContain(echoed);
    }
  });

  it.each([
    ['a path and query', '../../x?y=1&z'],
    ['5,000 characters', `msg_${'a'.repeat(4_996)}`],
  ])('refuses upstream ids that are not ids (%s) with UPSTREAM_ERROR, never serving them', async (_, odd) => {
    const thread = await upstream.store.createThread({});
    const message = {
      id: odd,
      object: 'thread.message',
      thread_id: thread.id,
      created_at: 1_700_000_000,
      role: 'user',
      content: [{ type: 'text', text: { value: 'hi', annotations: [] } }],
      metadata: {},
    };
    upstream.handler = (request) => {
      if (request.method === 'GET' && request.path.includes('/messages')) {
        return { status: 200, body: { object: 'list', data: [message], first_id: odd, last_id: odd, has_more: false } };
      }
      if (request.method === 'POST' && request.path.endsWith('/messages')) return { status: 200, body: message };
      if (request.method === 'POST' && request.path === '/v1/threads') {
        return { status: 200, body: { id: odd, object: 'thread', created_at: 1_700_000_000, metadata: {} } };
      }
      return { forward: true };
    };
    const listed = await execute(gateway, ThreadMessagesDocument, { id: thread.id, first: 10 });
    expect(codes(listed)).toEqual(['UPSTREAM_ERROR']);
    expect(JSON.stringify(listed)).not.toContain(odd);
    const created = await execute(gateway, CreateMessageDocument, {
      threadId: thread.id,
      input: { role: 'USER', content: 'hi' },
    });
    expect(codes(created)).toEqual(['UPSTREAM_ERROR']);
    expect(JSON.stringify(created)).not.toContain(odd);
    const createdThread = await execute(gateway, CreateThreadDocument, {});
    expect(codes(createdThread)).toEqual(['UPSTREAM_ERROR']);
    expect(JSON.stringify(createdThread)).not.toContain(odd);
  });

  it('maps 404 on update to NOT_FOUND, and 404 on read to null', async () => {
    upstream.handler = () => ({ status: 404, body: { detail: 'Thread not found' } });
    expect(codes(await execute(gateway, UpdateThreadDocument, { id: 'thread_x', input: {} }))).toEqual(['NOT_FOUND']);
    const read = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
    expect(read.errors).toBeUndefined();
    expect(read.data?.thread).toBeNull();
  });

  it('copes with error bodies that are not OpenAI-shaped: {"detail": …}, HTML, empty', async () => {
    const bodies = [{ detail: [{ loc: ['body'], msg: 'bad' }] }, '<html>oops</html>', ''];
    for (const body of bodies) {
      upstream.handler = () => ({ status: 500, body });
      const result = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
      expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
    }
    upstream.handler = () => ({ status: 422, body: { detail: [{ loc: ['body', 'metadata'], msg: 'bad' }] } });
    expect(codes(await execute(gateway, CreateThreadDocument, {}))).toEqual(['BAD_USER_INPUT']);
  });

  it('treats a 2xx body that is not a thread as UPSTREAM_ERROR, not as data', async () => {
    upstream.handler = () => ({ status: 200, body: '<html>a single-page app</html>' });
    expect(codes(await execute(gateway, GetThreadDocument, { id: 'thread_x' }))).toEqual(['UPSTREAM_ERROR']);
  });

  it('maps a timeout to UPSTREAM_TIMEOUT and a refused connection to UPSTREAM_UNAVAILABLE', async () => {
    upstream.handler = () => 'hang';
    expect(codes(await execute(gateway, GetThreadDocument, { id: 'thread_x' }))).toEqual(['UPSTREAM_TIMEOUT']);
    const url = upstream.url;
    await upstream.close();
    const refused = testGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: url, UPSTREAM_MAX_RETRIES: '0' });
    expect(codes(await execute(refused, GetThreadDocument, { id: 'thread_x' }))).toEqual(['UPSTREAM_UNAVAILABLE']);
    await refused.close();
  });

  it('fails only the entry of threads(ids) whose upstream call failed, with its error at its path', async () => {
    const good = (await upstream.store.createThread({})).id;
    upstream.handler = (request) => (request.path.endsWith('thread_broken') ? { status: 500 } : { forward: true });
    const result = await execute(gateway, GetThreadsDocument, { ids: [good, 'thread_broken', 'thread_missing'] });
    expect(result.data?.threads.map((thread) => thread?.id ?? null)).toEqual([good, null, null]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.path).toEqual(['threads', 1]);
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
  });

  it('refuses the whole threads(ids) field for one malformed id, sending nothing upstream', async () => {
    const result = await execute(gateway, GetThreadsDocument, { ids: ['thread_ok', '../assistants'] });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toContain('ids[1]');
    expect(upstream.seen).toHaveLength(0);
  });

  it('refuses more than 100 ids, sending nothing upstream', async () => {
    const ids = Array.from({ length: 101 }, (_, index) => `thread_${index}`);
    const result = await execute(gateway, GetThreadsDocument, { ids });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('item ids from a Conversations upstream', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_API: 'conversations', UPSTREAM_MAX_RETRIES: '0' }));
  });
  afterEach(() => closeAll(gateway, upstream));

  it.each([
    [
      'a message item',
      { type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'hi' }] },
    ],
    // Not served, but its id would be the next read's `after`.
    ['a tool call', { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }],
  ])('refuses %s whose id is not an id with UPSTREAM_ERROR', async (_, item) => {
    const thread = await upstream.store.createThread({});
    for (const odd of ['../../x?y=1&z', `msg_${'a'.repeat(4_996)}`]) {
      upstream.handler = (request) =>
        request.method === 'GET' && request.path.includes('/items')
          ? {
              status: 200,
              body: { object: 'list', data: [{ ...item, id: odd }], first_id: odd, last_id: odd, has_more: true },
            }
          : { forward: true };
      const listed = await execute(gateway, ThreadMessagesDocument, { id: thread.id, first: 10 });
      expect(codes(listed), odd).toEqual(['UPSTREAM_ERROR']);
      expect(JSON.stringify(listed)).not.toContain(odd);
      expect(upstream.seen.filter((request) => request.path.includes(encodeURIComponent(odd)))).toHaveLength(0);
    }
  });
});
