import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateMessageDocument,
  CreateThreadDocument,
  DeleteMessageDocument,
  DeleteThreadDocument,
  GetMessageDocument,
  GetThreadDocument,
  ThreadMessagesDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import {
  closeAll,
  type Handler,
  startServerKeyGateway,
  startTestUpstream,
  type TestUpstream,
} from '../helpers/test-upstream.ts';

const HEX_THREAD = '65a1b2c3d4e5f60718293a4b';
const HEX_MESSAGE = '75a1b2c3d4e5f60718293a4c';

function thread(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: HEX_THREAD, object: 'thread', created_at: 1_700_000_000, metadata: {}, tool_resources: null, ...extra };
}

function message(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: HEX_MESSAGE,
    object: 'thread.message',
    created_at: 1_700_000_000,
    thread_id: HEX_THREAD,
    role: 'user',
    content: [{ type: 'text', text: { value: 'hi', annotations: [] } }],
    attachments: null,
    metadata: {},
    ...extra,
  };
}

const asJson = (status: number, body: unknown) => ({ status, body });
/** JSON text nesting 20,000 arrays (JSON.stringify itself would overflow on such a value). */
const deepJson = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
const rawJson = (text: string) => ({ status: 200, body: text, headers: { 'content-type': 'application/json' } });

describe('trust nothing the upstream says (each answer checked)', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_MAX_RETRIES: '0' }));
  });
  afterEach(() => closeAll(gateway, upstream));

  const cases: Array<[string, Handler, 'thread' | 'message' | 'list']> = [
    ['a thread whose id is not the one asked for', () => asJson(200, thread({ id: 'thread_other' })), 'thread'],
    ['a message whose id is not the one asked for', () => asJson(200, message({ id: 'msg_other' })), 'message'],
    ['a message of another thread', () => asJson(200, message({ thread_id: 'thread_other' })), 'message'],
    [
      'a list holding a message of another thread',
      () => asJson(200, { object: 'list', data: [message({ thread_id: 'thread_other' })], has_more: false }),
      'list',
    ],
    ['a list that is not a list', () => asJson(200, { object: 'list', data: 'no', has_more: false }), 'list'],
    [
      'a list that gives one message twice',
      () => asJson(200, { object: 'list', data: [message(), message()], has_more: false }),
      'list',
    ],
    ['an invalid-JSON 2xx thread', () => rawJson('{"id": '), 'thread'],
    ['an invalid-JSON 2xx list', () => rawJson('not json'), 'list'],
    ['a JSON null list', () => rawJson('null'), 'list'],
    ['an unreadable created_at', () => asJson(200, thread({ created_at: 'yesterday' })), 'thread'],
    [
      'a created_at past GraphQL’s Int (after 2038)',
      () => asJson(200, thread({ created_at: 2_147_483_648 })),
      'thread',
    ],
    ['a message created_at past GraphQL’s Int', () => asJson(200, message({ created_at: 99_999_999_999 })), 'message'],
    [
      'a thread whose tool_resources nest 20,000 deep (the response could not be written)',
      () => rawJson(JSON.stringify(thread()).replace('"tool_resources":null', `"tool_resources":{"x":${deepJson}}`)),
      'thread',
    ],
    [
      'a list whose message annotations nest 20,000 deep',
      () =>
        rawJson(
          JSON.stringify({ object: 'list', data: [message()], has_more: false }).replace(
            '"annotations":[]',
            `"annotations":${deepJson}`,
          ),
        ),
      'list',
    ],
  ];
  for (const [name, handler, read] of cases) {
    it(`answers ${name} with UPSTREAM_ERROR, never a masked INTERNAL_SERVER_ERROR`, async () => {
      // For a list, the thread itself is answered well: only the list is spoiled.
      upstream.handler =
        read === 'list'
          ? (request, index) => (request.path.includes('/messages') ? handler(request, index) : asJson(200, thread()))
          : handler;
      const result =
        read === 'thread'
          ? await execute(gateway, GetThreadDocument, { id: HEX_THREAD })
          : read === 'message'
            ? await execute(gateway, GetMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE })
            : await execute(gateway, `query($id: ID!) { thread(id: $id) { messages { nodes { id } } } }`, {
                id: HEX_THREAD,
              });
      expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
      if (read === 'list') expect(result.errors?.[0]?.path).toEqual(['thread', 'messages']);
      expect(JSON.stringify(result)).not.toContain('thread_other');
    });
  }

  it('reads an empty page that claims more as the end: no page to go on from, so no endless "more"', async () => {
    upstream.handler = (request) =>
      request.path.includes('/messages')
        ? asJson(200, { object: 'list', data: [], first_id: null, last_id: 'msg_elsewhere', has_more: true })
        : asJson(200, thread());
    for (const variables of [
      { id: HEX_THREAD, first: 10 },
      { id: HEX_THREAD, last: 10 },
    ]) {
      const result = await execute(gateway, ThreadMessagesDocument, variables);
      expect(result.errors).toBeUndefined();
      expect(result.data?.thread?.messages.pageInfo).toEqual({
        hasNextPage: false,
        hasPreviousPage: false,
        startCursor: null,
        endCursor: null,
      });
    }
  });

  it('answers an invalid-JSON 2xx to createMessage with UPSTREAM_ERROR and outcome "unknown"', async () => {
    upstream.handler = () => rawJson('{');
    const result = await execute(gateway, CreateMessageDocument, {
      threadId: HEX_THREAD,
      input: { role: 'USER', content: 'x' },
    });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_ERROR', outcome: 'unknown' });
  });
});

describe('Threads-compatible servers that differ on the wire', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_MAX_RETRIES: '0' }));
  });
  afterEach(() => closeAll(gateway, upstream));

  it('reads created_at in milliseconds as seconds', async () => {
    upstream.handler = (request) =>
      request.path.includes('/messages/')
        ? asJson(200, message({ created_at: 1_700_000_000_123 }))
        : asJson(200, thread({ created_at: 1_700_000_000_999 }));
    expect((await execute(gateway, GetThreadDocument, { id: HEX_THREAD })).data?.thread?.createdAt).toBe(1_700_000_000);
    const read = await execute(gateway, GetMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE });
    expect(read.data?.message?.createdAt).toBe(1_700_000_000);
  });

  it('reads a float created_at as integer seconds', async () => {
    upstream.handler = () => asJson(200, thread({ created_at: 1_700_000_000.75 }));
    expect((await execute(gateway, GetThreadDocument, { id: HEX_THREAD })).data?.thread?.createdAt).toBe(1_700_000_000);
  });

  it('serves ids without the thread_ / msg_ prefix (24-hex ObjectIds)', async () => {
    upstream.handler = (request) => {
      if (request.method === 'POST' && request.path.endsWith('/messages')) return asJson(200, message());
      if (request.path.includes('/messages')) {
        return asJson(200, {
          object: 'list',
          data: [message()],
          first_id: HEX_MESSAGE,
          last_id: HEX_MESSAGE,
          has_more: false,
        });
      }
      return asJson(200, thread());
    };
    const created = await execute(gateway, CreateThreadDocument, {});
    expect(created.data?.createThread.id).toBe(HEX_THREAD);
    const page = await execute(gateway, ThreadMessagesDocument, { id: HEX_THREAD });
    expect(page.data?.thread?.messages.edges.map((edge) => edge.node.id)).toEqual([HEX_MESSAGE]);
    const written = await execute(gateway, CreateMessageDocument, {
      threadId: HEX_THREAD,
      input: { role: 'USER', content: 'x' },
    });
    expect(written.data?.createMessage.id).toBe(HEX_MESSAGE);
  });

  it('takes a delete answered with the deleted object itself (object: "thread") as deleted', async () => {
    upstream.handler = (request) =>
      request.path.includes('/messages/') ? asJson(200, message()) : asJson(200, thread());
    const deleted = await execute(gateway, DeleteThreadDocument, { id: HEX_THREAD });
    expect(deleted.data?.deleteThread).toEqual({ id: HEX_THREAD, deleted: true });
    const deletedMessage = await execute(gateway, DeleteMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE });
    expect(deletedMessage.data?.deleteMessage).toEqual({ id: HEX_MESSAGE, deleted: true });
  });

  it('maps errors shaped {"detail": …} and {"message": …} by status', async () => {
    upstream.handler = (request) => {
      if (request.method === 'GET') return asJson(404, { detail: 'Not Found' });
      if (request.path.endsWith('/messages')) return asJson(400, { message: 'content is invalid' });
      return asJson(401, { detail: 'Invalid token' });
    };
    expect((await execute(gateway, GetThreadDocument, { id: HEX_THREAD })).data?.thread).toBeNull();
    expect(
      (await execute(gateway, GetMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE })).data?.message,
    ).toBeNull();
    const bad = await execute(gateway, CreateMessageDocument, {
      threadId: HEX_THREAD,
      input: { role: 'USER', content: 'x' },
    });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad)).not.toContain('content is invalid');
    const unauthenticated = await execute(gateway, UpdateThreadDocument, { id: HEX_THREAD, input: { metadata: {} } });
    expect(codes(unauthenticated)).toEqual(['UNAUTHENTICATED']);
  });

  it('reads a message without thread_id, and a string content as one text part', async () => {
    upstream.handler = () => {
      const { thread_id: _omitted, ...rest } = message({ content: 'plain' });
      return asJson(200, rest);
    };
    const read = await execute(gateway, GetMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE });
    expect(read.data?.message).toMatchObject({ threadId: HEX_THREAD, text: 'plain' });
  });

  it('skips a content part of a type it does not know, and says nothing of it', async () => {
    upstream.handler = () =>
      asJson(
        200,
        message({
          content: [
            { type: 'audio', audio: { id: 'a_1' } },
            { type: 'text', text: { value: 'kept', annotations: [] } },
            { type: 'refusal', refusal: 'no' },
          ],
        }),
      );
    const read = await execute(gateway, GetMessageDocument, { threadId: HEX_THREAD, id: HEX_MESSAGE });
    expect(read.errors).toBeUndefined();
    expect(read.data?.message?.content).toEqual([
      { __typename: 'TextContent', text: 'kept', annotations: [] },
      { __typename: 'RefusalContent', refusal: 'no' },
    ]);
  });
});

describe('readiness against a server that answers 501 for unknown routes', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(() => closeAll(gateway, upstream));

  it('is ready, and serves threads', async () => {
    upstream = await startTestUpstream(
      (request) =>
        /^\/v1\/threads\/[A-Za-z0-9_-]+$/.test(request.path)
          ? request.path.includes('gatewayreadinessprobe')
            ? asJson(404, { detail: 'Thread not found' })
            : { forward: true }
          : asJson(501, { detail: 'Not Implemented' }),
      { handleProbes: true },
    );
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    const response = await gateway.yoga.fetch('http://gateway.test/ready');
    expect(response.status).toBe(200);
    const id = (await upstream.store.createThread({})).id;
    expect((await execute(gateway, GetThreadDocument, { id })).data?.thread?.id).toBe(id);
  });
});

describe('readiness against an ObjectId server that refuses the probe’s id as malformed', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(() => closeAll(gateway, upstream));

  it('is ready when the probe id is answered 422 and an unknown route differently', async () => {
    upstream = await startTestUpstream(
      (request) =>
        request.path.includes('gateway-readiness-probe')
          ? asJson(404, { detail: 'Not Found' })
          : request.path.includes('gatewayreadinessprobe')
            ? asJson(422, { detail: [{ loc: ['path', 'thread_id'], msg: 'invalid ObjectId' }] })
            : { forward: true },
      { handleProbes: true },
    );
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    expect((await gateway.yoga.fetch('http://gateway.test/ready')).status).toBe(200);
  });

  it('is not ready when a server answers 400 to everything alike', async () => {
    upstream = await startTestUpstream(() => asJson(400, { detail: 'Bad Request' }), { handleProbes: true });
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    expect((await gateway.yoga.fetch('http://gateway.test/ready')).status).toBe(503);
  });
});
