import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { GRAPHIQL_DEFAULT_QUERY } from '../../src/http/graphiql.ts';
import {
  CreateMessageDocument,
  CreateThreadDocument,
  DeleteMessageDocument,
  DeleteThreadDocument,
  GetMessageDocument,
  ThreadMessagesDocument,
  UpdateMessageDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import {
  closeAll,
  type Reply,
  seedThread,
  startServerKeyGateway,
  type TestUpstream,
} from '../helpers/test-upstream.ts';

/** A thread of `count` messages "m0" … in creation order, written straight into the store. */
type Page = {
  edges: Array<{ cursor: string; node: { id: string; text: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};

describe('messages on the embedded local backend', () => {
  let gateway: Gateway;
  beforeEach(() => {
    gateway = testGateway();
  });
  afterEach(() => gateway.close());

  it('creates, reads, updates and deletes a message; a thread’s first messages are its initial ones', async () => {
    const created = await execute(gateway, CreateThreadDocument, {
      input: { messages: [{ role: 'USER', content: 'first' }] },
    });
    const threadId = created.data?.createThread.id ?? '';
    const message = await execute(gateway, CreateMessageDocument, {
      threadId,
      input: {
        role: 'ASSISTANT',
        content: [
          { type: 'text', text: 'line one' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
          { type: 'text', text: 'line two' },
          { type: 'image_file', image_file: { file_id: 'file_1' } },
        ],
        metadata: { k: 'v' },
        attachments: [{ file_id: 'file_2', tools: [{ type: 'file_search' }] }],
      },
    });
    expect(message.errors).toBeUndefined();
    const written = message.data?.createMessage;
    expect(written).toMatchObject({
      threadId,
      role: 'ASSISTANT',
      text: 'line one\nline two',
      metadata: { k: 'v' },
      attachments: [{ file_id: 'file_2', tools: [{ type: 'file_search' }] }],
      status: 'completed',
      assistantId: null,
      runId: null,
      content: [
        { __typename: 'TextContent', text: 'line one', annotations: [] },
        { __typename: 'ImageUrlContent', url: 'https://example.com/a.png', detail: 'low' },
        { __typename: 'TextContent', text: 'line two', annotations: [] },
        { __typename: 'ImageFileContent', fileId: 'file_1', detail: null },
      ],
    });
    expect(written?.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
    expect(Math.abs((written?.createdAt ?? 0) - Date.now() / 1000)).toBeLessThan(5);

    const page = await execute(gateway, ThreadMessagesDocument, { id: threadId, order: 'ASC' });
    expect(page.data?.thread?.messages.edges.map((edge) => edge.node.text)).toEqual(['first', 'line one\nline two']);

    const id = written?.id ?? '';
    const read = await execute(gateway, GetMessageDocument, { threadId, id });
    expect(read.data?.message).toEqual(written);
    const updated = await execute(gateway, UpdateMessageDocument, { threadId, id, metadata: { k: 'w' } });
    expect(updated.data?.updateMessage.metadata).toEqual({ k: 'w' });
    const deleted = await execute(gateway, DeleteMessageDocument, { threadId, id });
    expect(deleted.data?.deleteMessage).toEqual({ id, deleted: true });
    expect((await execute(gateway, GetMessageDocument, { threadId, id })).data?.message).toBeNull();
    const again = await execute(gateway, DeleteMessageDocument, { threadId, id });
    expect(codes(again)).toEqual(['NOT_FOUND']);
    const updateMissing = await execute(gateway, UpdateMessageDocument, { threadId, id, metadata: {} });
    expect(codes(updateMissing)).toEqual(['NOT_FOUND']);
    const onMissingThread = await execute(gateway, CreateMessageDocument, {
      threadId: 'thread_missing',
      input: { role: 'USER', content: 'x' },
    });
    expect(codes(onMissingThread)).toEqual(['NOT_FOUND']);
    // What is missing is the thread the message was for.
    expect(onMissingThread.errors?.[0]?.message).toBe('The thread was not found.');
    expect(onMissingThread.errors?.[0]?.extensions?.outcome).toBe('not_created');
  });

  it('runs GraphiQL’s opening example as its comments say', async () => {
    const run = async (operationName: string, variables: Record<string, unknown> = {}) => {
      const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: GRAPHIQL_DEFAULT_QUERY, operationName, variables }),
      });
      return (await response.json()) as {
        data?: Record<string, { id: string } & Record<string, unknown>>;
        errors?: unknown;
      };
    };
    const created = await run('CreateThread');
    const id = created.data?.createThread?.id;
    expect((await run('CreateMessage', { id })).errors).toBeUndefined();
    const read = await run('ReadThread', { id });
    expect(read.errors).toBeUndefined();
    expect(JSON.stringify(read.data)).toContain('I can answer questions about your order.');
    const started = await run('StartRun', { id });
    expect(started.errors).toBeUndefined();
    const runId = started.data?.createRun?.id;
    let answer: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const read = await run('ReadRun', { id, runId });
      expect(read.errors).toBeUndefined();
      answer = read.data?.run;
      if (answer?.status === 'COMPLETED') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // echo answers with the last user message.
    expect(answer).toMatchObject({
      status: 'COMPLETED',
      messages: [{ role: 'ASSISTANT', text: 'Hi! What can you do?' }],
    });
  });

  it('deleting a thread deletes its messages', async () => {
    const created = await execute(gateway, CreateThreadDocument, {
      input: { messages: [{ role: 'USER', content: 'hello' }] },
    });
    const threadId = created.data?.createThread.id ?? '';
    const page = await execute(gateway, ThreadMessagesDocument, { id: threadId });
    const messageId = page.data?.thread?.messages.edges[0]?.node.id ?? '';
    await execute(gateway, DeleteThreadDocument, { id: threadId });
    expect((await execute(gateway, GetMessageDocument, { threadId, id: messageId })).data?.message).toBeNull();
  });

  it('refuses roles the Threads API does not take, and UNKNOWN everywhere, before any upstream call', async () => {
    const created = await execute(gateway, CreateThreadDocument, {});
    const threadId = created.data?.createThread.id ?? '';
    const before = [...(gateway.localBackend?.requests.values() ?? [])].reduce((a, b) => a + b, 0);
    for (const role of ['SYSTEM', 'DEVELOPER', 'TOOL', 'UNKNOWN'] as const) {
      const result = await execute(gateway, CreateMessageDocument, { threadId, input: { role, content: 'x' } });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.argument).toBe('input.role');
      const thread = await execute(gateway, CreateThreadDocument, { input: { messages: [{ role, content: 'x' }] } });
      expect(codes(thread)).toEqual(['BAD_USER_INPUT']);
      expect(thread.errors?.[0]?.extensions?.argument).toBe('input.messages[0].role');
    }
    const after = [...(gateway.localBackend?.requests.values() ?? [])].reduce((a, b) => a + b, 0);
    expect(after).toBe(before);
  });

  it('validates content, attachments, metadata and ids by the shared rules', async () => {
    const emojiKey = '🙂'.repeat(64);
    const emojiValue = '🙂'.repeat(512);
    const created = await execute(gateway, CreateThreadDocument, {});
    const threadId = created.data?.createThread.id ?? '';
    const ok = await execute(gateway, CreateMessageDocument, {
      threadId,
      input: { role: 'USER', content: 'x', metadata: { [emojiKey]: emojiValue } },
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.createMessage.metadata).toEqual({ [emojiKey]: emojiValue });
    for (const [input, argument] of [
      [{ role: 'USER', content: '' }, 'input.content'],
      [{ role: 'USER', content: [] }, 'input.content'],
      [{ role: 'USER', content: [{ type: 'video', video: {} }] }, 'input.content[0].type'],
      [{ role: 'USER', content: 'x'.repeat(256_001) }, 'input.content'],
      [
        { role: 'USER', content: 'x', attachments: [{ file_id: 'f', tools: [{ type: 'web' }] }] },
        'input.attachments[0].tools[0].type',
      ],
      [{ role: 'USER', content: 'x', metadata: { [`${emojiKey}🙂`]: 'v' } }, 'input.metadata'],
      [{ role: 'USER', content: 'x', metadata: { k: `${emojiValue}🙂` } }, 'input.metadata.k'],
    ] as const) {
      const result = await execute(gateway, CreateMessageDocument, { threadId, input });
      expect(codes(result), argument).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.argument).toBe(argument);
    }
    const badId = await execute(gateway, GetMessageDocument, { threadId, id: '../threads' });
    expect(badId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
    const badKey = await execute(gateway, CreateMessageDocument, {
      threadId,
      input: { role: 'USER', content: 'x' },
      idempotencyKey: 'has space',
    });
    expect(badKey.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'idempotencyKey' });
  });

  it('serves an unknown content part by skipping it, and reads a message’s thread through the loader', async () => {
    const created = await execute(gateway, CreateThreadDocument, {});
    const threadId = created.data?.createThread.id ?? '';
    const id = (await execute(gateway, CreateMessageDocument, { threadId, input: { role: 'USER', content: 'x' } })).data
      ?.createMessage.id;
    const result = await execute(
      gateway,
      `query($t: ID!, $id: ID!) { message(threadId: $t, id: $id) { thread { id } } }`,
      { t: threadId, id },
    );
    expect(result.data).toEqual({ message: { thread: { id: threadId } } });
  });
});

describe('messages against a counting upstream', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_TIMEOUT_MS: '400' }));
  });
  afterEach(() => closeAll(gateway, upstream));

  async function walk(
    threadId: string,
    direction: 'forward' | 'backward',
    order: 'ASC' | 'DESC',
  ): Promise<{ texts: string[]; cursors: Map<string, string>; pages: number }> {
    const texts: string[] = [];
    const cursors = new Map<string, string>();
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const variables =
        direction === 'forward'
          ? { id: threadId, first: 100, after: cursor, order }
          : { id: threadId, last: 100, before: cursor, order };
      const result = await execute(gateway, ThreadMessagesDocument, variables);
      expect(result.errors).toBeUndefined();
      const page = result.data?.thread?.messages as Page;
      pages++;
      const pageTexts = page.edges.map((edge) => edge.node.text);
      for (const edge of page.edges) cursors.set(edge.node.id, edge.cursor);
      if (direction === 'forward') {
        texts.push(...pageTexts);
        if (!page.pageInfo.hasNextPage) break;
        cursor = page.pageInfo.endCursor;
      } else {
        texts.unshift(...pageTexts);
        if (!page.pageInfo.hasPreviousPage) break;
        cursor = page.pageInfo.startCursor;
      }
    }
    return { texts, cursors, pages };
  }

  it('walks 250 messages forward with first: 100 and backward with last: 100: each once, in order, stable cursors', async () => {
    const { id } = await seedThread(upstream, 250);
    const ascending = Array.from({ length: 250 }, (_, index) => `m${index}`);
    for (const order of ['ASC', 'DESC'] as const) {
      const expected = order === 'ASC' ? ascending : [...ascending].reverse();
      upstream.seen.length = 0;
      const forward = await walk(id, 'forward', order);
      expect(forward.texts).toEqual(expected);
      expect(forward.pages).toBe(3);
      expect(upstream.count('GET', /\/messages\?/)).toBe(3);
      const backward = await walk(id, 'backward', order);
      expect(backward.texts).toEqual(expected);
      expect(backward.pages).toBe(3);
      // A message's cursor is the same on whichever page it was read.
      for (const [messageId, cursor] of forward.cursors) expect(backward.cursors.get(messageId)).toBe(cursor);
    }
    const lists = upstream.seen.filter((request) => request.path.includes('/messages?'));
    expect(lists.every((request) => /limit=100/.test(request.path))).toBe(true);
  });

  it('defaults to the 20 newest, and sends one list call with limit, order and after', async () => {
    const { id, messageIds } = await seedThread(upstream, 30);
    const result = await execute(gateway, ThreadMessagesDocument, { id });
    const page = result.data?.thread?.messages as Page;
    expect(page.edges.map((edge) => edge.node.text)).toEqual(
      Array.from({ length: 20 }, (_, index) => `m${29 - index}`),
    );
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const next = await execute(gateway, ThreadMessagesDocument, { id, first: 5, after: page.pageInfo.endCursor });
    expect(next.data?.thread?.messages.edges.map((edge) => edge.node.text)).toEqual(['m9', 'm8', 'm7', 'm6', 'm5']);
    const lists = upstream.seen.filter((request) => request.path.includes('/messages'));
    expect(lists.map((request) => new URL(request.path, 'http://x').search)).toEqual([
      '?limit=20&order=desc',
      `?limit=5&order=desc&after=${messageIds[10]}`,
    ]);
    const empty = await execute(gateway, ThreadMessagesDocument, { id: (await upstream.store.createThread({})).id });
    expect(empty.data?.thread?.messages).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('refuses bad pagination arguments with BAD_USER_INPUT and nothing upstream', async () => {
    const { id } = await seedThread(upstream, 3);
    const page = await execute(gateway, ThreadMessagesDocument, { id, first: 1 });
    const cursor = page.data?.thread?.messages.pageInfo.endCursor ?? '';
    upstream.seen.length = 0;
    for (const [variables, argument] of [
      [{ first: 1, last: 1 }, 'first'],
      [{ first: 0 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ last: 0 }, 'last'],
      [{ last: 101 }, 'last'],
      [{ first: 1, before: cursor }, 'first'],
      [{ last: 1, after: cursor }, 'after'],
      [{ after: 'not-a-cursor' }, 'after'],
      [{ before: `${cursor}!` }, 'before'],
      [{ after: Buffer.from('msg:../x').toString('base64url') }, 'after'],
    ] as const) {
      const result = await execute(
        gateway,
        `query($id: ID!, $first: Int, $last: Int, $after: String, $before: String) {
        message(threadId: $id, id: "msg_x") { id }
        thread(id: $id) { messages(first: $first, last: $last, after: $after, before: $before) { nodes { id } } }
      }`.replace('message(threadId: $id, id: "msg_x") { id }', ''),
        { id, ...variables },
      );
      expect(codes(result), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.argument).toBe(argument);
    }
    // The thread itself was read (GET), but no list call went upstream.
    expect(upstream.count('GET', /\/messages/)).toBe(0);
  });

  it('20 threads × messages(first: 5) make 20 list calls and one GET per distinct thread; a repeated connection costs nothing', async () => {
    const threads = await Promise.all(Array.from({ length: 20 }, () => seedThread(upstream, 6)));
    const ids = threads.map((thread) => thread.id);
    upstream.handler = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { forward: true };
    };
    const result = await execute(
      gateway,
      `query($ids: [ID!]!) {
        threads(ids: $ids) { id a: messages(first: 5) { nodes { id text } } b: messages(first: 5) { edges { cursor } } }
        again: threads(ids: $ids) { messages(first: 5) { nodes { id } } }
      }`,
      { ids: [...ids, ...ids.slice(0, 5)] },
    );
    expect(result.errors).toBeUndefined();
    const data = result.data as { threads: Array<{ a: { nodes: unknown[] } }> };
    expect(data.threads).toHaveLength(25);
    expect(data.threads.every((thread) => thread.a.nodes.length === 5)).toBe(true);
    expect(upstream.count('GET', /\/messages\?/)).toBe(20);
    expect(upstream.count('GET', /^\/v1\/threads\/[^/]+$/)).toBe(20);
    expect(upstream.seen).toHaveLength(40);
    // Concurrent, within the request's bound (UPSTREAM_CONCURRENCY, 10 by default).
    expect(upstream.peakInFlight).toBeGreaterThan(1);
    expect(upstream.peakInFlight).toBeLessThanOrEqual(10);
  });

  it('50 messages asking for their thread cost one thread GET', async () => {
    const { id, messageIds } = await seedThread(upstream, 50);
    const viaConnection = await execute(
      gateway,
      `query($id: ID!) { thread(id: $id) { messages(first: 50) { nodes { thread { id } } } } }`,
      { id },
    );
    expect(viaConnection.errors).toBeUndefined();
    expect(upstream.count('GET', /^\/v1\/threads\/[^/]+$/)).toBe(1);
    upstream.seen.length = 0;
    const aliases = messageIds
      .map((messageId, index) => `m${index}: message(threadId: "${id}", id: "${messageId}") { thread { id } }`)
      .join('\n');
    const viaMessages = await execute(gateway, `{ ${aliases} }`);
    expect(viaMessages.errors).toBeUndefined();
    expect(upstream.count('GET', /^\/v1\/threads\/[^/]+$/)).toBe(1);
    expect(upstream.count('GET', /\/messages\/msg_/)).toBe(50);
  });

  it('a message read by a page in the same request needs no call of its own', async () => {
    const { id, messageIds } = await seedThread(upstream, 3);
    const result = await execute(
      gateway,
      `query($id: ID!, $m: ID!) { thread(id: $id) { messages { nodes { id } } } message(threadId: $id, id: $m) { text } }`,
      { id, m: messageIds[0] },
    );
    expect(result.errors).toBeUndefined();
    // Both root fields run together, so the message loader may not see the page first; at most one GET.
    expect(upstream.count('GET', /\/messages\/msg_/)).toBeLessThanOrEqual(1);
  });

  it('counts connections × the lists they sit under against the budget, and refuses before any call', async () => {
    await gateway.close();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, MAX_UPSTREAM_CALLS: '199' });
    const ids = Array.from({ length: 100 }, (_, index) => `thread_${index}`);
    const refused = await execute(gateway, `query($ids: [ID!]!) { threads(ids: $ids) { messages { nodes { id } } } }`, {
      ids,
    });
    expect(codes(refused)).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ limit: 199, requested: 200 });
    // Nested connections multiply: 1 GET + 1 list + 100 × (1 list + 100 × 1 list).
    const nested = await execute(
      gateway,
      `query($id: ID!) { thread(id: $id) { messages(first: 100) { nodes { thread { messages(first: 100) {
        nodes { thread { messages { nodes { id } } } } } } } } } }`,
      { id: 'thread_0' },
    );
    expect(nested.errors?.[0]?.extensions).toMatchObject({ requested: 10_102 });
    expect(codes(nested)).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(upstream.seen).toHaveLength(0);
  });

  it('a cursor of a message of another thread is refused as bad input, with no list call upstream', async () => {
    const one = await seedThread(upstream, 2);
    const other = await seedThread(upstream, 2);
    const page = await execute(gateway, ThreadMessagesDocument, { id: other.id, first: 1 });
    const cursor = page.data?.thread?.messages.pageInfo.endCursor;
    const lists = upstream.count('GET', /\/messages/);
    for (const variables of [
      { id: one.id, first: 1, after: cursor },
      { id: one.id, last: 1, before: cursor },
    ]) {
      const result = await execute(gateway, ThreadMessagesDocument, variables);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    // A lenient upstream would have answered some page of the wrong place: nothing was asked of it.
    expect(upstream.count('GET', /\/messages/)).toBe(lists);
  });

  it('a message id the upstream does not know as a cursor (a deleted message) is the upstream’s 400', async () => {
    const { id } = await seedThread(upstream, 3);
    const page = await execute(gateway, ThreadMessagesDocument, { id, first: 1 });
    const cursor = page.data?.thread?.messages.pageInfo.endCursor;
    const first = page.data?.thread?.messages.edges[0]?.node.id ?? '';
    await execute(gateway, DeleteMessageDocument, { threadId: id, id: first });
    const result = await execute(gateway, ThreadMessagesDocument, { id, first: 1, after: cursor });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', upstreamParam: 'after' });
  });

  it('a write evicts what it changes: later reads in the same request go upstream again', async () => {
    const { id, messageIds } = await seedThread(upstream, 2);
    const result = await execute(
      gateway,
      `mutation($id: ID!, $m0: ID!, $m1: ID!) {
        a: createMessage(threadId: $id, input: { role: USER, content: "new" }) {
          thread { messages(order: ASC) { nodes { text } } }
        }
        b: createMessage(threadId: $id, input: { role: USER, content: "newer" }) {
          thread { messages(order: ASC) { nodes { text } } }
        }
        c: updateMessage(threadId: $id, id: $m0, metadata: { v: "1" }) {
          thread { messages(order: ASC) { nodes { text metadata } } }
        }
        d: deleteMessage(threadId: $id, id: $m1) { deleted }
        e: updateThread(id: $id, input: { metadata: { x: "y" } }) { messages(order: ASC) { nodes { text } } }
      }`,
      { id, m0: messageIds[0], m1: messageIds[1] },
    );
    expect(result.errors).toBeUndefined();
    const data = result.data as Record<string, { thread?: { messages: { nodes: Array<{ text: string }> } } }> & {
      e: { messages: { nodes: Array<{ text: string }> } };
    };
    expect(data.a?.thread?.messages.nodes.map((node) => node.text)).toEqual(['m0', 'm1', 'new']);
    expect(data.b?.thread?.messages.nodes.map((node) => node.text)).toEqual(['m0', 'm1', 'new', 'newer']);
    expect(data.c?.thread?.messages.nodes[0]).toEqual({ text: 'm0', metadata: { v: '1' } });
    expect(data.e.messages.nodes.map((node) => node.text)).toEqual(['m0', 'new', 'newer']);
    expect(upstream.count('GET', /\/messages\?/)).toBe(4);
  });

  it('coalesces identical in-flight list reads across requests, and a write evicts them', async () => {
    const { id } = await seedThread(upstream, 2);
    upstream.handler = async (request) => {
      if (request.method === 'GET') await new Promise((resolve) => setTimeout(resolve, 150));
      return { forward: true };
    };
    const reads = await Promise.all(
      Array.from({ length: 6 }, () => execute(gateway, ThreadMessagesDocument, { id, first: 10 })),
    );
    for (const read of reads) expect(read.data?.thread?.messages.edges).toHaveLength(2);
    expect(upstream.count('GET', /\/messages\?/)).toBe(1);

    upstream.seen.length = 0;
    const early = execute(gateway, ThreadMessagesDocument, { id, first: 10 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await execute(gateway, CreateMessageDocument, { threadId: id, input: { role: 'USER', content: 'late' } });
    const late = await execute(gateway, ThreadMessagesDocument, { id, first: 10 });
    await early;
    expect(late.data?.thread?.messages.edges.map((edge) => edge.node.text)).toContain('late');
  });
});

describe('createMessage outcomes and idempotency keys', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let threadId: string;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_TIMEOUT_MS: '300' }));
    threadId = (await upstream.store.createThread({})).id;
  });
  afterEach(() => closeAll(gateway, upstream));

  const faultsThenForward =
    (...faults: Reply[]) =>
    (_request: unknown, index: number): Reply =>
      faults[index] ?? { forward: true };

  async function storedCount(): Promise<number> {
    const list = await upstream.store.listMessages(threadId, { limit: 100, order: 'asc' });
    return list.kind === 'ok' ? list.data.length : -1;
  }

  for (const [name, spoil, code] of [
    ['a lost reply', { forward: true, spoil: 'drop-connection' } as Reply, 'UPSTREAM_UNAVAILABLE'],
    ['a reply that never comes', { forward: true, spoil: 'hang' } as Reply, 'UPSTREAM_TIMEOUT'],
    ['a 500 after the upstream created it', { forward: true, spoil: { status: 500 } } as Reply, 'UPSTREAM_ERROR'],
  ] as const) {
    it(`never sends it twice after ${name}: outcome "unknown", one message`, async () => {
      upstream.handler = faultsThenForward(spoil);
      const result = await execute(gateway, CreateMessageDocument, { threadId, input: { role: 'USER', content: 'x' } });
      expect(codes(result)).toEqual([code]);
      expect(result.errors?.[0]?.extensions?.outcome).toBe('unknown');
      expect(upstream.count('POST')).toBe(1);
      expect(await storedCount()).toBe(1);
    });
  }

  it('retries after a 429, which proves nothing was created', async () => {
    upstream.handler = faultsThenForward({ status: 429 });
    const result = await execute(gateway, CreateMessageDocument, { threadId, input: { role: 'USER', content: 'x' } });
    expect(result.errors).toBeUndefined();
    expect(upstream.count('POST')).toBe(2);
    expect(await storedCount()).toBe(1);
  });

  it('with a key, a retry after an unknown outcome returns the message the first attempt made', async () => {
    upstream.handler = faultsThenForward({ forward: true, spoil: 'drop-connection' });
    const variables = { threadId, input: { role: 'USER' as const, content: 'once' }, idempotencyKey: 'k-1' };
    const first = await execute(gateway, CreateMessageDocument, variables);
    expect(first.errors?.[0]?.extensions?.outcome).toBe('unknown');
    const retried = await execute(gateway, CreateMessageDocument, variables);
    expect(retried.errors).toBeUndefined();
    expect(await storedCount()).toBe(1);
    const keys = upstream.seen.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^gw-/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[0]).not.toContain('k-1');
    // The same key again: the remembered message, no upstream call.
    const third = await execute(gateway, CreateMessageDocument, variables);
    expect(third.data?.createMessage.id).toBe(retried.data?.createMessage.id);
    expect(upstream.count('POST')).toBe(2);
    const conflict = await execute(gateway, CreateMessageDocument, {
      ...variables,
      input: { role: 'USER', content: 'other' },
    });
    expect(conflict.errors?.[0]?.extensions).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      argument: 'idempotencyKey',
    });
    const asThread = await execute(gateway, CreateThreadDocument, { input: { idempotencyKey: 'k-1' } });
    expect(codes(asThread)).toEqual(['IDEMPOTENCY_CONFLICT']);
  });

  it('concurrent tries with one key share one upstream create', async () => {
    const variables = { threadId, input: { role: 'USER' as const, content: 'x' }, idempotencyKey: 'k-2' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => execute(gateway, CreateMessageDocument, variables)),
    );
    expect(new Set(results.map((result) => result.data?.createMessage.id)).size).toBe(1);
    expect(upstream.count('POST')).toBe(1);
  });
});

describe('thread(id) { messages }: the list call alone', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
  });
  afterEach(() => closeAll(gateway, upstream));

  const threadGets = () => upstream.count('GET', /^\/v1\/threads\/[^/?]+$/);
  const listCalls = () => upstream.count('GET', /\/messages\?/);

  it('asks the upstream once when only the id and one connection are selected', async () => {
    const { id } = await upstream.store.createThread({ messages: [{ role: 'user', content: [] }] });
    const answer = await execute(
      gateway,
      'query($id: ID!) { thread(id: $id) { id __typename messages(first: 5) { nodes { id } pageInfo { hasNextPage } } } }',
      { id },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toMatchObject({ thread: { id, __typename: 'Thread', messages: { nodes: [{}] } } });
    expect(threadGets()).toBe(0);
    expect(listCalls()).toBe(1);
  });

  it('a missing thread is null, from the list call’s 404', async () => {
    const answer = await execute(gateway, '{ thread(id: "thread_missing") { id messages { nodes { id } } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ thread: null });
    expect(threadGets()).toBe(0);
    expect(listCalls()).toBe(1);
  });

  it('reads the thread as usual when anything else of it is selected', async () => {
    const { id } = await upstream.store.createThread({ metadata: { a: '1' } });
    for (const selection of [
      'id metadata messages { nodes { id } }',
      'id ... on Thread { messages { nodes { id } } }',
      'id messages @include(if: true) { nodes { id } }',
      'id a: messages(first: 1) { nodes { id } } b: messages(first: 2) { nodes { id } }',
    ]) {
      const before = threadGets();
      const answer = await execute(gateway, `query($id: ID!) { thread(id: $id) { ${selection} } }`, { id });
      expect(answer.errors, selection).toBeUndefined();
      expect(threadGets() - before, selection).toBe(1);
    }
  });

  it('a refused connection argument is refused at the connection, with nothing upstream', async () => {
    const { id } = await upstream.store.createThread({});
    const answer = await execute(
      gateway,
      'query($id: ID!) { thread(id: $id) { id messages(first: 0) { nodes { id } } } }',
      {
        id,
      },
    );
    expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
    expect(listCalls()).toBe(0);
  });
});
