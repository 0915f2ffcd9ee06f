import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { codes, execute } from '../helpers/gateway.ts';
import type { TestUpstream } from '../helpers/test-upstream.ts';
import { messageItem, servingItems, toolCallItem } from './synthetic-items.ts';
import { type ConversationsTarget, conversationsUpstream, targets } from './targets.ts';

// The message rows of the mapping, in conversations mode, against each target.

const MESSAGE_FIELDS = `
  id threadId createdAt role text metadata attachments status assistantId runId
  content {
    __typename
    ... on TextContent { text annotations }
    ... on ImageFileContent { fileId detail }
    ... on ImageUrlContent { url detail }
    ... on RefusalContent { refusal }
  }
`;

const CREATE_MESSAGE = `mutation ($threadId: ID!, $input: ThreadMessageInput!, $key: String) {
  createMessage(threadId: $threadId, input: $input, idempotencyKey: $key) { ${MESSAGE_FIELDS} }
}`;
const GET_MESSAGE = `query ($threadId: ID!, $id: ID!) { message(threadId: $threadId, id: $id) { ${MESSAGE_FIELDS} } }`;
const UPDATE_MESSAGE = `mutation ($threadId: ID!, $id: ID!) {
  updateMessage(threadId: $threadId, id: $id, metadata: { a: "b" }) { id }
}`;
const DELETE_MESSAGE = `mutation ($threadId: ID!, $id: ID!) { deleteMessage(threadId: $threadId, id: $id) { id deleted } }`;
const LIST_MESSAGES = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: MessageOrder) {
  thread(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before, order: $order) {
      edges { cursor node { id text role } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;

interface Page {
  edges: Array<{ cursor: string; node: { id: string; text: string; role: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

async function page(gateway: Gateway, variables: Record<string, unknown>): Promise<Page> {
  const result = await execute<{ thread: { messages: Page } | null }, Record<string, unknown>>(
    gateway,
    LIST_MESSAGES,
    variables,
  );
  expect(result.errors).toBeUndefined();
  const messages = result.data?.thread?.messages;
  if (!messages) throw new Error('no connection');
  return messages;
}

const texts = (connection: Page) => connection.edges.map((edge) => edge.node.text);

describe.each(targets)('messages over the Conversations API, against %s', (_name, start) => {
  let target: ConversationsTarget;
  afterEach(async () => {
    await target?.close();
  });

  async function thread(): Promise<string> {
    return (await target.backend.store.createThread({})).id;
  }

  it('adds a message as one item and serves it with no timestamp, metadata, attachments, assistant or run', async () => {
    target = await start();
    const threadId = await thread();
    const created = await execute<{ createMessage: Record<string, unknown> }, Record<string, unknown>>(
      target.gateway,
      CREATE_MESSAGE,
      { threadId, input: { role: 'USER', content: 'Where is my order?' } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createMessage).toMatchObject({
      threadId,
      createdAt: null,
      role: 'USER',
      text: 'Where is my order?',
      metadata: {},
      attachments: null,
      assistantId: null,
      runId: null,
      content: [{ __typename: 'TextContent', text: 'Where is my order?', annotations: [] }],
    });
    const id = String(created.data?.createMessage.id);
    const read = await execute<{ message: Record<string, unknown> | null }, Record<string, unknown>>(
      target.gateway,
      GET_MESSAGE,
      {
        threadId,
        id,
      },
    );
    expect(read.data?.message).toEqual(created.data?.createMessage);
    if (target.upstream) {
      const post = target.upstream.seen.find((request) => request.method === 'POST');
      expect(post?.path).toBe(`/v1/conversations/${threadId}/items`);
      expect(JSON.parse(post?.body ?? '{}')).toEqual({
        items: [{ type: 'message', role: 'user', content: 'Where is my order?' }],
      });
    }
  });

  it('writes SYSTEM, DEVELOPER and ASSISTANT messages, text and image parts mapped per role', async () => {
    target = await start();
    const threadId = await thread();
    const inputs = [
      { role: 'SYSTEM', content: 'Be brief.' },
      { role: 'DEVELOPER', content: [{ type: 'text', text: 'Use metric units.' }] },
      {
        role: 'USER',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
          { type: 'image_file', image_file: { file_id: 'file_1' } },
        ],
      },
      { role: 'ASSISTANT', content: [{ type: 'text', text: 'A parcel.' }] },
    ];
    for (const input of inputs) {
      const created = await execute(target.gateway, CREATE_MESSAGE, { threadId, input });
      expect(created.errors).toBeUndefined();
    }
    const listed = await execute<
      { thread: { messages: { nodes: Array<Record<string, unknown>> } } },
      Record<string, unknown>
    >(target.gateway, `query ($id: ID!) { thread(id: $id) { messages(order: ASC) { nodes { ${MESSAGE_FIELDS} } } } }`, {
      id: threadId,
    });
    expect(listed.errors).toBeUndefined();
    const nodes = listed.data?.thread.messages.nodes ?? [];
    expect(nodes.map((node) => node.role)).toEqual(['SYSTEM', 'DEVELOPER', 'USER', 'ASSISTANT']);
    expect(nodes[2]?.content).toEqual([
      { __typename: 'TextContent', text: 'What is this?', annotations: [] },
      { __typename: 'ImageUrlContent', url: 'https://example.com/a.png', detail: 'low' },
      { __typename: 'ImageFileContent', fileId: 'file_1', detail: 'auto' },
    ]);
    if (target.upstream) {
      const bodies = target.upstream.seen
        .filter((request) => request.method === 'POST')
        .map((request) => JSON.parse(request.body).items[0]);
      expect(bodies[1]).toEqual({
        type: 'message',
        role: 'developer',
        content: [{ type: 'input_text', text: 'Use metric units.' }],
      });
      expect(bodies[2].content).toEqual([
        { type: 'input_text', text: 'What is this?' },
        { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
        { type: 'input_image', file_id: 'file_1', detail: 'auto' },
      ]);
      expect(bodies[3]).toEqual({
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'A parcel.', annotations: [] }],
      });
    }
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    [
      'attachments',
      { role: 'USER', content: 'x', attachments: [{ file_id: 'file_1', tools: [{ type: 'file_search' }] }] },
      'input.attachments',
    ],
    ['non-empty metadata', { role: 'USER', content: 'x', metadata: { k: 'v' } }, 'input.metadata'],
    ['a TOOL message', { role: 'TOOL', content: 'x' }, 'input.role'],
  ];
  for (const [name, input, argument] of refusals) {
    it(`refuses ${name} on createMessage with UNSUPPORTED_BY_UPSTREAM before any call`, async () => {
      target = await start();
      const threadId = await thread();
      const result = await execute(target.gateway, CREATE_MESSAGE, { threadId, input });
      expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
      expect(result.errors?.[0]?.extensions?.argument).toBe(argument);
      expect(result.errors?.[0]?.message).toMatch(/Conversations API/);
      if (target.upstream) expect(target.upstream.seen).toHaveLength(0);
    });
  }

  it('refuses updateMessage with UNSUPPORTED_BY_UPSTREAM before any call', async () => {
    target = await start();
    const threadId = await thread();
    const stored = await target.backend.store.createMessage(threadId, {
      role: 'user',
      content: [{ type: 'text', text: { value: 'x', annotations: [] } }],
    });
    const result = await execute(target.gateway, UPDATE_MESSAGE, { threadId, id: stored?.id });
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(result.errors?.[0]?.message).toMatch(/updateMessage.*Conversations API/);
    if (target.upstream) expect(target.upstream.seen).toHaveLength(0);
  });

  it('deletes a message item: {id, deleted: true}, then null; NOT_FOUND for a missing one', async () => {
    target = await start();
    const threadId = await thread();
    const stored = await target.backend.store.createMessage(threadId, {
      role: 'user',
      content: [{ type: 'text', text: { value: 'x', annotations: [] } }],
    });
    const id = stored?.id ?? '';
    const deleted = await execute(target.gateway, DELETE_MESSAGE, { threadId, id });
    expect(deleted.data).toEqual({ deleteMessage: { id, deleted: true } });
    const gone = await execute(target.gateway, GET_MESSAGE, { threadId, id });
    expect(gone.data).toEqual({ message: null });
    expect(codes(await execute(target.gateway, DELETE_MESSAGE, { threadId, id }))).toEqual(['NOT_FOUND']);
    if (target.upstream) expect(target.upstream.count('DELETE', /\/items\//)).toBe(2);
  });

  it('pages forward and backward (no `before` upstream), cursors stable', async () => {
    target = await start();
    const threadId = await thread();
    for (let index = 0; index < 7; index++) {
      await target.backend.store.createMessage(threadId, {
        role: 'user',
        content: [{ type: 'text', text: { value: `m${index}`, annotations: [] } }],
      });
    }
    const first = await page(target.gateway, { id: threadId, first: 3, order: 'ASC' });
    expect(texts(first)).toEqual(['m0', 'm1', 'm2']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(target.gateway, {
      id: threadId,
      first: 3,
      after: first.pageInfo.endCursor,
      order: 'ASC',
    });
    expect(texts(second)).toEqual(['m3', 'm4', 'm5']);
    const back = await page(target.gateway, {
      id: threadId,
      last: 2,
      before: second.pageInfo.startCursor,
      order: 'ASC',
    });
    expect(texts(back)).toEqual(['m1', 'm2']);
    expect(back.pageInfo.hasPreviousPage).toBe(true);
    expect(back.edges.map((edge) => edge.cursor)).toEqual(first.edges.slice(1).map((edge) => edge.cursor));
    if (target.upstream) {
      expect(target.upstream.seen.some((request) => request.path.includes('before='))).toBe(false);
    }
  });
});

describe('items that are not messages', () => {
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
    upstream = undefined;
    gateway = undefined;
  });

  /** A conversation of 6 messages with tool calls between them: m0 fc fc m1 fc m2 m3 fc fc fc m4 m5. */
  async function conversationWithToolCalls(env: Record<string, string> = {}) {
    const started = await conversationsUpstream(undefined, env);
    upstream = started.upstream;
    gateway = started.gateway;
    const { id } = await upstream.backend.store.createThread({});
    const items = [
      messageItem('msg_0', 'm0'),
      toolCallItem('fc_a'),
      toolCallItem('fc_b'),
      messageItem('msg_1', 'm1', 'assistant'),
      toolCallItem('fc_c'),
      messageItem('msg_2', 'm2'),
      messageItem('msg_3', 'm3'),
      toolCallItem('fc_d'),
      toolCallItem('fc_e'),
      toolCallItem('fc_f'),
      messageItem('msg_4', 'm4'),
      messageItem('msg_5', 'm5'),
    ];
    upstream.handler = servingItems(id, items);
    return id;
  }

  const listCalls = () => upstream?.count('GET', /\/items\?/) ?? 0;

  it('skips them, and reads on until a short page is full, each extra call counted', async () => {
    const id = await conversationWithToolCalls();
    const first = await page(gateway as Gateway, { id, first: 3, order: 'ASC' });
    expect(texts(first)).toEqual(['m0', 'm1', 'm2']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    // limit=3 gives m0 fc fc, then m1 fc m2: two list calls for one connection.
    expect(listCalls()).toBe(2);

    const second = await page(gateway as Gateway, { id, first: 3, after: first.pageInfo.endCursor, order: 'ASC' });
    expect(texts(second)).toEqual(['m3', 'm4', 'm5']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    // m3 fc fc, then fc m4 m5: full at the end of a page that says there is no more.
    expect(listCalls()).toBe(2 + 2);

    const back = await page(gateway as Gateway, { id, last: 2, before: second.pageInfo.startCursor, order: 'ASC' });
    expect(texts(back)).toEqual(['m1', 'm2']);
    expect(back.pageInfo.hasPreviousPage).toBe(true);
    expect(upstream?.seen.some((request) => request.path.includes('before='))).toBe(false);
  });

  it('reads on by the API’s largest page: 300 tool calls between two messages cost 3 more calls, not 150', async () => {
    const started = await conversationsUpstream();
    upstream = started.upstream;
    gateway = started.gateway;
    const { id } = await upstream.backend.store.createThread({});
    const calls = Array.from({ length: 300 }, (_, index) => toolCallItem(`fc_${index}`));
    upstream.handler = servingItems(id, [
      messageItem('msg_0', 'm0'),
      ...calls,
      messageItem('msg_1', 'm1'),
      messageItem('msg_2', 'm2'),
    ]);
    const first = await page(gateway, { id, first: 2, order: 'ASC' });
    expect(texts(first)).toEqual(['m0', 'm1']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    // limit=2 (m0 fc), then 100, 100 and 100 items (the last one ends with m1).
    expect(listCalls()).toBe(4);
    const second = await page(gateway, { id, first: 2, after: first.pageInfo.endCursor, order: 'ASC' });
    expect(texts(second)).toEqual(['m2']);
  });

  it('stops at the request’s call budget when reading on would pass it', async () => {
    const id = await conversationWithToolCalls({ MAX_UPSTREAM_CALLS: '2' });
    // With metadata asked for, thread(id) is one GET and the connection's list the second call:
    // reading on would be a third.
    const withMetadata = LIST_MESSAGES.replace('thread(id: $id) {', 'thread(id: $id) { metadata');
    const result = await execute(gateway as Gateway, withMetadata, { id, first: 6, order: 'ASC' });
    expect(codes(result)).toContain('UPSTREAM_CALL_LIMIT');
    expect(upstream?.seen).toHaveLength(2);
  });

  it('answers a list that goes in circles with UPSTREAM_ERROR at the first repeat, not a budget of calls', async () => {
    const started = await conversationsUpstream();
    upstream = started.upstream;
    gateway = started.gateway;
    const { id } = await upstream.backend.store.createThread({});
    // Whatever `after` says, the same tool call and "there is more": reading on would never end.
    upstream.handler = (request) =>
      request.method === 'GET' && request.path.includes('/items?')
        ? { status: 200, body: { object: 'list', data: [toolCallItem('fc_loop')], has_more: true } }
        : { forward: true };
    const result = await execute(gateway, LIST_MESSAGES, { id, first: 5 });
    expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
    expect(result.errors?.[0]?.path).toEqual(['thread', 'messages']);
    expect(listCalls()).toBe(2);
  });

  it('answers a message item whose annotations nest 20,000 deep with UPSTREAM_ERROR, not a masked error', async () => {
    const started = await conversationsUpstream();
    upstream = started.upstream;
    gateway = started.gateway;
    const { id } = await upstream.backend.store.createThread({});
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const item = JSON.stringify(messageItem('msg_deep', 'hi', 'assistant')).replace(
      '"annotations":[]',
      `"annotations":${deep}`,
    );
    upstream.handler = (request) =>
      request.method === 'GET' && request.path.includes('/items')
        ? {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: request.path.includes('/items?') ? `{"object":"list","data":[${item}],"has_more":false}` : item,
          }
        : { forward: true };
    expect(codes(await execute(gateway, LIST_MESSAGES, { id, first: 5 }))).toEqual(['UPSTREAM_ERROR']);
    expect(codes(await execute(gateway, GET_MESSAGE, { threadId: id, id: 'msg_deep' }))).toEqual(['UPSTREAM_ERROR']);
  });

  it('reads an item that is not a message as null, and unknown roles as UNKNOWN', async () => {
    const id = await conversationWithToolCalls();
    const tool = await execute(gateway as Gateway, GET_MESSAGE, { threadId: id, id: 'fc_a' });
    expect(tool.errors).toBeUndefined();
    expect(tool.data).toEqual({ message: null });
    if (!upstream) throw new Error('no upstream');
    upstream.handler = servingItems(id, [
      { ...messageItem('msg_c', 'judged'), role: 'critic' },
      { ...messageItem('msg_t', 'tool says'), role: 'tool' },
      {
        id: 'msg_r',
        type: 'message',
        status: 'incomplete',
        role: 'assistant',
        content: [
          {
            type: 'output_text',
            text: 'See',
            annotations: [{ type: 'url_citation', url: 'https://a.example', start_index: 0, end_index: 3, title: 'A' }],
          },
          { type: 'refusal', refusal: 'I cannot.' },
          { type: 'input_file', file_id: 'file_9' },
        ],
      },
    ]);
    const read = await execute<{ message: Record<string, unknown> }, Record<string, unknown>>(
      gateway as Gateway,
      GET_MESSAGE,
      {
        threadId: id,
        id: 'msg_r',
      },
    );
    expect(read.data?.message).toMatchObject({
      role: 'ASSISTANT',
      status: 'incomplete',
      content: [
        {
          __typename: 'TextContent',
          text: 'See',
          annotations: [{ type: 'url_citation', url: 'https://a.example', start_index: 0, end_index: 3, title: 'A' }],
        },
        { __typename: 'RefusalContent', refusal: 'I cannot.' },
      ],
    });
    const roles = await page(gateway as Gateway, { id, first: 10, order: 'ASC' });
    expect(roles.edges.map((edge) => edge.node.role)).toEqual(['UNKNOWN', 'TOOL', 'ASSISTANT']);
  });
});
