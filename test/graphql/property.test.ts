import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { closeAll, type SeenRequest, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

const okMetadata = (value: unknown) =>
  value == null ||
  (typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.keys(value).length <= 16 &&
    Object.entries(value).every(
      // Characters are code points: an emoji counts once.
      ([key, inner]) => [...key].length <= 64 && typeof inner === 'string' && [...inner].length <= 512,
    ));

const okMessage = (message: Record<string, unknown>) =>
  okMetadata(message.metadata) &&
  (message.role === 'user' || message.role === 'assistant') &&
  ((typeof message.content === 'string' && message.content.length > 0) ||
    (Array.isArray(message.content) && message.content.length > 0 && message.content.length <= 100));

/** An oracle written apart from the gateway's validators: what a valid upstream request looks like. */
function validUpstreamRequest(request: SeenRequest): boolean {
  const url = new URL(request.path, 'http://upstream.test');
  if (!/^\/v1\/threads(\/[A-Za-z0-9_-]{1,128}(\/messages(\/[A-Za-z0-9_-]{1,128})?)?)?$/.test(url.pathname)) {
    return false;
  }
  const limit = url.searchParams.get('limit');
  if (limit !== null && !(Number(limit) >= 1 && Number(limit) <= 100)) return false;
  if (request.method !== 'POST') return true;
  const body = JSON.parse(request.body) as Record<string, unknown>;
  if (url.pathname.endsWith('/messages')) return okMessage(body);
  if (url.pathname.includes('/messages/')) return okMetadata(body.metadata);
  if (!okMetadata(body.metadata)) return false;
  return ((body.messages ?? []) as Array<Record<string, unknown>>).every(okMessage);
}

describe('generated abuse (fast-check)', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeAll(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ UPSTREAM_MAX_RETRIES: '0' }));
  });
  afterAll(() => closeAll(gateway, upstream));

  async function send(query: string, variables?: unknown): Promise<void> {
    const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: unknown } }> };
    for (const error of body.errors ?? []) expect(typeof error.extensions?.code).toBe('string');
  }

  const idArb = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,130}$/),
    fc.constantFrom('../assistants', 'thread_x/../../files', 'thread_x?limit=1', '%2e%2e', '', 'a\u0000b'),
  );
  const jsonArb = fc.jsonValue({ maxDepth: 3 });
  const metadataArb = fc.oneof(
    jsonArb,
    fc.dictionary(fc.string({ maxLength: 70 }), fc.oneof(fc.string({ maxLength: 520 }), jsonArb), { maxKeys: 18 }),
  );
  const contentArb = fc.oneof(
    jsonArb,
    fc.string({ maxLength: 5 }),
    fc.array(
      fc.record({
        type: fc.constantFrom('text', 'image_file', 'image_url', 'audio'),
        text: fc.string(),
        image_file: jsonArb,
      }),
      { maxLength: 3 },
    ),
  );

  it('answers generated ids, metadata and content without a 5xx, each error coded, nothing invalid upstream', async () => {
    await fc.assert(
      fc.asyncProperty(
        idArb,
        metadataArb,
        contentArb,
        metadataArb,
        fc.constantFrom('USER', 'ASSISTANT'),
        async (id, metadata, content, toolResources, role) => {
          await send('query($id: ID!) { thread(id: $id) { id metadata } }', { id });
          await send('query($ids: [ID!]!) { threads(ids: $ids) { id } }', { ids: [id, id] });
          await send('mutation($id: ID!, $m: JSON) { updateThread(id: $id, input: { metadata: $m }) { id } }', {
            id,
            m: metadata,
          });
          await send('mutation($input: CreateThreadInput) { createThread(input: $input) { id } }', {
            input: { metadata, toolResources, messages: [{ role, content, metadata }] },
          });
          await send(
            'mutation($id: ID!, $input: ThreadMessageInput!) { createMessage(threadId: $id, input: $input) { id } }',
            { id, input: { role, content, metadata } },
          );
          await send('mutation($id: ID!, $m: JSON!) { updateMessage(threadId: $id, id: $id, metadata: $m) { id } }', {
            id,
            m: metadata,
          });
          await send('query($id: ID!) { message(threadId: $id, id: $id) { id content { __typename } } }', { id });
        },
      ),
      { numRuns: 150 },
    );
    expect(upstream.seen.every(validUpstreamRequest)).toBe(true);
  });

  it('answers generated pagination arguments without a 5xx, each error coded, nothing invalid upstream', async () => {
    const created = await gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { createThread(input: { messages: [{ role: USER, content: "a" }] }) { id } }',
      }),
    });
    const threadId = ((await created.json()) as { data: { createThread: { id: string } } }).data.createThread.id;
    const count = fc.option(fc.integer({ min: -5, max: 205 }));
    const cursor = fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 40 })));
    await fc.assert(
      fc.asyncProperty(
        count,
        cursor,
        count,
        cursor,
        fc.constantFrom('ASC', 'DESC'),
        async (first, after, last, before, order) => {
          await send(
            `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: MessageOrder) {
            thread(id: $id) { messages(first: $first, after: $after, last: $last, before: $before, order: $order) {
              edges { cursor } pageInfo { hasNextPage hasPreviousPage } } } }`,
            { id: threadId, first, after, last, before, order },
          );
        },
      ),
      { numRuns: 100 },
    );
    expect(upstream.seen.every(validUpstreamRequest)).toBe(true);
  });

  it('answers generated documents without a 5xx, each error coded', async () => {
    const token = fc.constantFrom(
      '{',
      '}',
      '(',
      ')',
      'thread',
      'threads',
      'id:',
      'ids:',
      '"thread_a"',
      '[',
      ']',
      'a:',
      'id',
      'metadata',
      'mutation',
      'createThread',
      'deleteThread',
      '$x',
      '...',
      'fragment',
      'on',
      'Thread',
      '@skip(if: true)',
      '__schema',
      '"""',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(token, { maxLength: 60 }).map((parts) => parts.join(' ')),
          fc.string({ maxLength: 300 }),
        ),
        async (query) => {
          await send(query, { x: 'thread_a' });
        },
      ),
      { numRuns: 300 },
    );
    expect(upstream.seen.every(validUpstreamRequest)).toBe(true);
  });
});
