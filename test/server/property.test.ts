import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { closeAll, type SeenRequest, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

/** An oracle written apart from the gateway's validators: what a valid upstream request looks like. */
function validUpstreamRequest(request: SeenRequest): boolean {
  if (!/^\/v1\/threads(\/[A-Za-z0-9_-]{1,128})?$/.test(request.path)) return false;
  if (request.method !== 'POST') return true;
  const body = JSON.parse(request.body) as Record<string, unknown>;
  const okMetadata = (value: unknown) =>
    value == null ||
    (typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length <= 16 &&
      Object.entries(value).every(
        ([key, inner]) => key.length <= 64 && typeof inner === 'string' && inner.length <= 512,
      ));
  if (!okMetadata(body.metadata)) return false;
  const messages = (body.messages ?? []) as Array<Record<string, unknown>>;
  return messages.every(
    (message) =>
      okMetadata(message.metadata) &&
      (message.role === 'user' || message.role === 'assistant') &&
      ((typeof message.content === 'string' && message.content.length > 0) ||
        (Array.isArray(message.content) && message.content.length > 0)),
  );
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
        },
      ),
      { numRuns: 150 },
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
