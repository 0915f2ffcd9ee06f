import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { LeanOpenAI, type ReadOptions } from '../../src/upstream/sdk/fast-read-client.ts';
import { type HotReads, hotReads, type ReadPath } from '../../src/upstream/sdk/read-paths.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import {
  type Reply,
  type SeenRequest,
  seedThread,
  startTestUpstream,
  type TestUpstream,
} from '../helpers/test-upstream.ts';

/**
 * The lean read path's contract (issue 12, option 2): every hot read, sent through the lean path
 * and through the SDK's resource methods against the same upstream giving the same answer, must
 * produce the same value or the same SDK error object, and send the same request. Then the same
 * one level up: two gateways, one on each path, must answer GraphQL identically (errors, codes,
 * retries) and send the upstream the same requests, on both APIs. If the SDK changes how it builds,
 * parses or fails a read, a test here fails before the two paths can drift.
 */

const PATHS: ReadPath[] = ['sdk', 'lean'];
const apiError = (status: number, extra: Record<string, string> = {}): Reply => ({
  status,
  body: { error: { message: `upstream says ${status}`, type: 'invalid_request_error', param: 'limit', code: 'x' } },
  headers: { 'x-request-id': `req_${status}`, ...extra },
});

/** Every kind of answer an upstream can give a read, as the test upstream sends it. */
const answers: Record<string, Reply> = {
  'the answer (local backend)': { forward: true },
  'a thread, with a request id': {
    status: 200,
    body: { id: 'thread_other', object: 'thread', created_at: 1, metadata: {}, tool_resources: null },
    headers: { 'x-request-id': 'req_ok' },
  },
  '400 with an error body': apiError(400),
  '401': apiError(401),
  '404 with an error body': apiError(404),
  '409': apiError(409),
  '429 with Retry-After': apiError(429, { 'retry-after': '7' }),
  '500 with an HTML body': { status: 500, body: '<html>oops</html>' },
  '502 with an empty JSON body': { status: 502, body: '', headers: { 'content-type': 'application/json' } },
  '503 with a JSON null body': { status: 503, body: 'null', headers: { 'content-type': 'application/json' } },
  '200 with invalid JSON': { status: 200, body: '{"id": ', headers: { 'content-type': 'application/json' } },
  '200 with text/plain': { status: 200, body: 'fine', headers: { 'content-type': 'text/plain' } },
  '200 with a JSON null': { status: 200, body: 'null', headers: { 'content-type': 'application/json' } },
  '200 with an empty object': { status: 200, body: {} },
  '200 with problem+json': {
    status: 200,
    body: '{"data":[]}',
    headers: { 'content-type': 'application/problem+json' },
  },
  '204': { status: 204, body: '' },
  'the connection dropped': 'drop-connection',
  'no answer (timeout)': 'hang',
};

/** A request as the upstream saw it, without what differs between two sends of one request. */
function request(seen: SeenRequest) {
  const { host, connection, 'keep-alive': _keepAlive, ...headers } = seen.headers;
  return { method: seen.method, path: seen.path, headers, body: seen.body };
}

/** The local backend gives every answer a fresh request id: two sends differ only there. */
const BACKEND_REQUEST_ID = /^req_[0-9a-f]{32}$/;

/** What a read settled to, in a form two paths can be compared by. */
async function outcome(read: () => Promise<unknown>): Promise<unknown> {
  const settled = await settle(read);
  return JSON.parse(
    JSON.stringify(settled, (_key, value) =>
      typeof value === 'string' && BACKEND_REQUEST_ID.test(value) ? 'req_(from the backend)' : value,
    ),
  );
}

async function settle(read: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = (await read()) as { data?: unknown; has_more?: unknown; _request_id?: unknown } | null;
    if (value && typeof value === 'object' && 'has_more' in value) {
      return { value: { data: value.data, has_more: value.has_more } };
    }
    return { value, requestId: value && typeof value === 'object' ? value._request_id : undefined };
  } catch (error) {
    const thrown = error as Error & { cause?: { name?: string; code?: string } };
    const described: Record<string, unknown> = {
      class: thrown.constructor.name,
      message: thrown.message,
      cause: thrown.cause ? { name: thrown.cause.name, code: thrown.cause.code } : null,
    };
    if (error instanceof APIError) {
      const headers = Object.fromEntries([...(error.headers?.entries() ?? [])].filter(([name]) => name !== 'date'));
      Object.assign(described, {
        status: error.status,
        error: error.error,
        headers,
        requestID: error.requestID,
        code: error.code,
        param: error.param,
        type: error.type,
      });
    }
    return described;
  }
}

describe('lean reads against the SDK: each read, each upstream answer', () => {
  let upstream: TestUpstream;
  let transport: ReturnType<typeof createUpstreamTransport>;
  let paths: Record<ReadPath, HotReads>;
  let threadId = '';
  let messageIds: string[] = [];
  // A run that has ended, on a thread of its own: nothing changes under the reads it is compared by.
  let runThreadId = '';
  let runId = '';

  beforeAll(async () => {
    upstream = await startTestUpstream();
    transport = createUpstreamTransport();
    const client = new LeanOpenAI({
      apiKey: 'sk-test',
      baseURL: upstream.url,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: 400,
      fetch: transport.fetch,
    });
    paths = { sdk: hotReads(client, 'sdk'), lean: hotReads(client, 'lean') };
    ({ id: threadId, messageIds } = await seedThread(upstream, 3));
    ({ id: runThreadId } = await seedThread(upstream, 1));
    let run = await client.beta.threads.runs.create(runThreadId, { model: 'echo' } as never);
    while (run.status === 'queued' || run.status === 'in_progress') {
      run = await client.beta.threads.runs.retrieve(run.id, { thread_id: runThreadId });
    }
    runId = run.id;
  });

  afterAll(async () => {
    await transport.close();
    await upstream.close();
  });

  const options: ReadOptions = { timeout: 400, maxRetries: 0 };
  const reads: Record<string, (reads: HotReads) => Promise<unknown>> = {
    'retrieve a thread': (r) => r.retrieveThread(threadId, options),
    'retrieve a thread that does not exist': (r) => r.retrieveThread('thread_missing', options),
    'retrieve a thread with the caller’s key': (r) =>
      r.retrieveThread(threadId, { ...options, headers: { Authorization: 'Bearer sk-caller' } }),
    'retrieve a thread with the caller’s key in a Headers': (r) =>
      r.retrieveThread(threadId, { ...options, headers: new Headers({ Authorization: 'Bearer sk-caller' }) }),
    'list messages with the caller’s key as header pairs': (r) =>
      r.listMessages(
        threadId,
        { limit: 2, order: 'desc' },
        { ...options, headers: [['Authorization', 'Bearer sk-c']] },
      ),
    'list messages': (r) => r.listMessages(threadId, { limit: 2, order: 'desc' }, options),
    'list messages after a cursor': (r) =>
      r.listMessages(threadId, { limit: 2, order: 'asc', after: messageIds[0] ?? '' }, options),
    'retrieve a message': (r) => r.retrieveMessage(threadId, messageIds[1] ?? '', options),
    'retrieve a run': (r) => r.retrieveRun(runThreadId, runId, options),
    'retrieve a conversation': (r) => r.retrieveConversation(threadId, options),
    'list conversation items': (r) => r.listItems(threadId, { limit: 2, order: 'asc' }, options),
    'retrieve a conversation item': (r) => r.retrieveItem(threadId, messageIds[2] ?? '', options),
  };
  const matrix = Object.keys(reads).flatMap((read) => Object.keys(answers).map((answer) => [read, answer]));

  it.each(matrix)('%s, when the upstream gives %s', async (read, answer) => {
    const reply = answers[answer] as Reply;
    const results: Array<{ outcome: unknown; sent: unknown[] }> = [];
    for (const path of PATHS) {
      upstream.seen.length = 0;
      upstream.handler = () => reply;
      const settled = await outcome(() => (reads[read] as (r: HotReads) => Promise<unknown>)(paths[path]));
      results.push({ outcome: settled, sent: upstream.seen.map(request) });
    }
    const [sdk, lean] = results;
    expect(sdk?.sent).toHaveLength(1);
    expect(lean).toEqual(sdk);
  });

  it('refuses `.` and `..` as ids with the SDK’s error, before any request, on both paths', async () => {
    for (const id of ['.', '..']) {
      upstream.seen.length = 0;
      const [sdk, lean] = [
        await outcome(async () => paths.sdk.retrieveThread(id, options)),
        await outcome(async () => paths.lean.retrieveThread(id, options)),
      ];
      expect((sdk as { class: string }).class).toBe('OpenAIError');
      expect((lean as { class: string }).class).toBe('OpenAIError');
      expect(upstream.seen).toHaveLength(0);
    }
  });

  it('takes the lean path for every read: the SDK’s makeRequest never runs (and runs once per read on the SDK path)', async () => {
    const client = new LeanOpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0, fetch: transport.fetch });
    let made = 0;
    // The SDK's makeRequest is private in its types; counting its calls is the point here.
    const sdk = client as unknown as { makeRequest: (...args: unknown[]) => Promise<unknown> };
    const original = sdk.makeRequest.bind(client);
    sdk.makeRequest = (...args) => {
      made++;
      return original(...args);
    };
    upstream.handler = () => ({ forward: true });
    const each: Array<(r: HotReads) => Promise<unknown>> = [
      (r) => r.retrieveThread(threadId, options),
      (r) => r.listMessages(threadId, { limit: 2, order: 'asc' }, options),
      (r) => r.retrieveMessage(threadId, messageIds[0] ?? '', options),
      (r) => r.retrieveRun(runThreadId, runId, options),
      (r) => r.retrieveConversation(threadId, options),
      (r) => r.listItems(threadId, { limit: 2, order: 'asc' }, options),
      (r) => r.retrieveItem(threadId, messageIds[0] ?? '', options),
    ];
    for (const read of each) await read(hotReads(client, 'lean'));
    expect(made).toBe(0);
    for (const read of each) await read(hotReads(client, 'sdk'));
    expect(made).toBe(each.length);
  });

  it('leaves the SDK’s own retries to the SDK: with maxRetries, both paths send the same attempts', async () => {
    const sent: number[] = [];
    for (const path of PATHS) {
      upstream.seen.length = 0;
      upstream.handler = () => ({
        status: 500,
        body: { error: { message: 'down' } },
        headers: { 'retry-after-ms': '1' },
      });
      await outcome(() => paths[path].retrieveThread(threadId, { ...options, maxRetries: 2 }));
      sent.push(upstream.seen.length);
    }
    expect(sent).toEqual([3, 3]);
  });
});

describe('two gateways, one on each read path: the same answers and the same upstream requests', () => {
  let upstream: TestUpstream;
  let threadId = '';
  let messageIds: string[] = [];
  let script: Array<Reply | undefined> = [];

  beforeAll(async () => {
    upstream = await startTestUpstream((_request, index) => script[index] ?? { forward: true });
    ({ id: threadId, messageIds } = await seedThread(upstream, 3));
  });

  afterAll(() => upstream.close());

  const queries: Record<string, () => [string, Record<string, unknown>]> = {
    thread: () => ['query($id: ID!) { thread(id: $id) { id createdAt metadata toolResources } }', { id: threadId }],
    'a page of messages': () => [
      'query($id: ID!) { thread(id: $id) { id messages(first: 2) { edges { cursor node { id role text createdAt } } pageInfo { hasNextPage endCursor } } } }',
      { id: threadId },
    ],
    'a message': () => [
      'query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { id role text metadata } }',
      { t: threadId, m: messageIds[1] },
    ],
  };
  const scripts: Record<string, Array<Reply | undefined>> = {
    'the upstream answers': [],
    '503, then the answer (retried)': [{ status: 503, body: { error: { message: 'busy' } } }],
    '429 with Retry-After: 0, then the answer': [apiError(429, { 'retry-after': '0' })],
    'a dropped connection, then the answer': ['drop-connection'],
    'always 500': Array.from({ length: 8 }, () => ({ status: 500, body: '<html>down</html>' })),
    '404': [apiError(404)],
    '401': [apiError(401)],
    'invalid JSON': [{ status: 200, body: '{"id": ', headers: { 'content-type': 'application/json' } }],
    'a JSON null': [{ status: 200, body: 'null', headers: { 'content-type': 'application/json' } }],
    'text/plain': [{ status: 200, body: 'fine', headers: { 'content-type': 'text/plain' } }],
    'no answer, then the answer': ['hang'],
  };
  const apis = ['threads', 'conversations'] as const;
  const matrix = apis.flatMap((api) =>
    Object.keys(scripts).flatMap((name) => Object.keys(queries).map((query) => [api, name, query] as const)),
  );

  it.each(matrix)('%s API, %s: %s', async (api, name, query) => {
    const results: Array<{ body: unknown; sent: unknown[] }> = [];
    for (const path of PATHS) {
      const gateway: Gateway = testGateway(
        {
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: upstream.url,
          UPSTREAM_API: api,
          UPSTREAM_TIMEOUT_MS: '300',
        },
        { upstreamReads: path },
      );
      try {
        upstream.seen.length = 0;
        script = scripts[name] ?? [];
        const [document, variables] = (queries[query] as () => [string, Record<string, unknown>])();
        const { headers: _headers, ...body } = await execute(gateway, document, variables);
        results.push({ body, sent: upstream.seen.map(request) });
      } finally {
        script = [];
        await gateway.close();
      }
    }
    const [sdk, lean] = results;
    expect(sdk?.sent.length).toBeGreaterThan(0);
    expect(lean).toEqual(sdk);
  });
});
