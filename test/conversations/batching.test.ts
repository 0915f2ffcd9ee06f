import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

// Batching, budget and write eviction of messages: the same cases with each adapter, against a
// test upstream (its local backend serves both APIs) that counts what reaches it.

const modes = [
  { api: 'threads', thread: /^\/v1\/threads\/[^/?]+$/, list: /^\/v1\/threads\/[^/]+\/messages\?/ },
  { api: 'conversations', thread: /^\/v1\/conversations\/[^/?]+$/, list: /^\/v1\/conversations\/[^/]+\/items\?/ },
] as const;

describe.each(modes)('messages batched and budgeted with UPSTREAM_API=$api', ({ api, thread, list }) => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  async function start(env: Record<string, string> = {}): Promise<void> {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, UPSTREAM_API: api, ...env });
  }

  async function threadsWithMessages(count: number, messages: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      const created = await upstream.backend.store.createThread({
        messages: Array.from({ length: messages }, (_, n) => ({
          role: 'user',
          content: [{ type: 'text', text: { value: `t${index} m${n}`, annotations: [] } }],
        })),
      });
      ids.push(created.id);
    }
    return ids;
  }

  it('threads(ids: [20 ids]) { messages(first: 5) } makes 20 list calls and one GET per thread', async () => {
    await start();
    const ids = await threadsWithMessages(20, 6);
    const result = await execute<
      { threads: Array<{ messages: { nodes: Array<{ text: string }> } }> },
      { ids: string[] }
    >(gateway, 'query ($ids: [ID!]!) { threads(ids: $ids) { id messages(first: 5) { nodes { text } } } }', { ids });
    expect(result.errors).toBeUndefined();
    expect(result.data?.threads.map((entry) => entry.messages.nodes.length)).toEqual(Array(20).fill(5));
    expect(result.data?.threads[3]?.messages.nodes[0]?.text).toBe('t3 m5');
    expect(upstream.count('GET', thread)).toBe(20);
    expect(upstream.count('GET', list)).toBe(20);
    expect(upstream.peakInFlight).toBeLessThanOrEqual(10);
  });

  it('asks the same connection twice in a request for one list call', async () => {
    await start();
    const [id] = await threadsWithMessages(1, 3);
    const result = await execute(
      gateway,
      'query ($id: ID!) { a: thread(id: $id) { messages(first: 2) { nodes { id } } } b: thread(id: $id) { messages(first: 2) { nodes { id } } } }',
      { id },
    );
    expect(result.errors).toBeUndefined();
    expect(upstream.count('GET', list)).toBe(1);
  });

  it('counts connections under a list before execution: 100 threads × messages is over a budget of 199', async () => {
    await start({ MAX_UPSTREAM_CALLS: '199' });
    const ids = Array.from({ length: 100 }, (_, index) => `thread_${index}`);
    const result = await execute(gateway, 'query ($ids: [ID!]!) { threads(ids: $ids) { messages { nodes { id } } } }', {
      ids,
    });
    expect(codes(result)).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(upstream.seen).toHaveLength(0);
  });

  it('a createMessage evicts the thread’s messages read earlier in the same request', async () => {
    await start();
    const [id = ''] = await threadsWithMessages(1, 1);
    type Added = { thread: { messages: { nodes: Array<{ text: string }> } } };
    const result = await execute<{ one: Added; two: Added }, { id: string }>(
      gateway,
      `mutation ($id: ID!) {
        one: createMessage(threadId: $id, input: { role: USER, content: "one" }) { thread { messages(first: 5) { nodes { text } } } }
        two: createMessage(threadId: $id, input: { role: USER, content: "two" }) { thread { messages(first: 5) { nodes { text } } } }
      }`,
      { id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.one.thread.messages.nodes.map((node) => node.text)).toEqual(['one', 't0 m0']);
    expect(result.data?.two.thread.messages.nodes.map((node) => node.text)).toEqual(['two', 'one', 't0 m0']);
    expect(upstream.count('GET', list)).toBe(2);
  });

  interface WalkPage {
    edges: Array<{ cursor: string; node: { id: string; text: string } }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  }

  async function walk(id: string, direction: 'forward' | 'backward'): Promise<{ texts: string[]; cursors: string[] }> {
    const texts: string[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const variables: Record<string, unknown> =
        direction === 'forward' ? { id, first: 100, after: cursor } : { id, last: 100, before: cursor };
      const result = await execute<{ thread: { messages: WalkPage } }, Record<string, unknown>>(
        gateway,
        `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
          thread(id: $id) { messages(first: $first, after: $after, last: $last, before: $before, order: ASC) {
            edges { cursor node { id text } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
        }`,
        variables,
      );
      expect(result.errors).toBeUndefined();
      const page = result.data?.thread.messages as WalkPage;
      const pageTexts = page.edges.map((edge) => edge.node.text);
      const pageCursors = page.edges.map((edge) => edge.cursor);
      if (direction === 'forward') {
        texts.push(...pageTexts);
        cursors.push(...pageCursors);
        if (!page.pageInfo.hasNextPage) break;
        cursor = page.pageInfo.endCursor;
      } else {
        texts.unshift(...pageTexts);
        cursors.unshift(...pageCursors);
        if (!page.pageInfo.hasPreviousPage) break;
        cursor = page.pageInfo.startCursor;
      }
    }
    return { texts, cursors };
  }

  it('walks 250 messages forward with first: 100 and backward with last: 100, each once, cursors stable', async () => {
    await start();
    const [id = ''] = await threadsWithMessages(1, 250);
    const expected = Array.from({ length: 250 }, (_, n) => `t0 m${n}`);
    const forward = await walk(id, 'forward');
    expect(forward.texts).toEqual(expected);
    expect(upstream.count('GET', list)).toBe(3);
    const backward = await walk(id, 'backward');
    expect(backward.texts).toEqual(expected);
    expect(backward.cursors).toEqual(forward.cursors);
    expect(upstream.seen.some((request) => request.path.includes('before='))).toBe(false);
  });

  const CREATE_MESSAGE = `mutation ($id: ID!, $key: String) {
    createMessage(threadId: $id, input: { role: USER, content: "once" }, idempotencyKey: $key) { id }
  }`;

  async function storedMessages(id: string): Promise<number> {
    const listed = await upstream.backend.store.listMessages(id, { limit: 100, order: 'asc' });
    return listed.kind === 'ok' ? listed.data.length : -1;
  }

  it('never resends a createMessage whose outcome is unknown; with a key, a retry finds the one made', async () => {
    await start();
    const [id = ''] = await threadsWithMessages(1, 0);
    let spoiled = false;
    upstream.handler = (request) => {
      if (request.method !== 'POST' || spoiled) return { forward: true };
      spoiled = true;
      return { forward: true, spoil: 'drop-connection' };
    };
    const lost = await execute(gateway, CREATE_MESSAGE, { id });
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'unknown' });
    expect(upstream.count('POST')).toBe(1);
    expect(await storedMessages(id)).toBe(1);

    spoiled = false;
    const first = await execute(gateway, CREATE_MESSAGE, { id, key: 'k-1' });
    expect(first.errors?.[0]?.extensions?.outcome).toBe('unknown');
    const retried = await execute<{ createMessage: { id: string } }, { id: string; key: string }>(
      gateway,
      CREATE_MESSAGE,
      {
        id,
        key: 'k-1',
      },
    );
    expect(retried.errors).toBeUndefined();
    expect(await storedMessages(id)).toBe(2);
    const [, keyed, again] = upstream.seen.filter((request) => request.method === 'POST');
    expect(keyed?.headers['idempotency-key']).toMatch(/^gw-/);
    expect(again?.headers['idempotency-key']).toBe(keyed?.headers['idempotency-key']);
  });
});
