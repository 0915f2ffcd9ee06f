import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend, type LocalBackend } from '../../src/local-backend/backend.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';

// The embedded backend's Conversations routes, through the real SDK over real HTTP.

let backend: LocalBackend;
let served: Awaited<ReturnType<typeof serveLocalBackend>>;
let client: OpenAI;

beforeEach(async () => {
  backend = createLocalBackend();
  served = await serveLocalBackend(backend);
  client = new OpenAI({ apiKey: 'sk-local', baseURL: served.url, maxRetries: 0 });
});
afterEach(async () => {
  await served.close();
});

async function failure(promise: Promise<unknown>): Promise<{ status: number | undefined; error: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return { status: error.status, error: error.error };
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('the local backend serves the Conversations API', () => {
  it('creates a conversation with message items and metadata, and reads it back', async () => {
    const created = await client.conversations.create({
      metadata: { customer: 'c_42' },
      items: [
        { type: 'message', role: 'user', content: 'Where is my order?' },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Be brief.' }] },
      ],
    });
    expect(created).toMatchObject({ object: 'conversation', metadata: { customer: 'c_42' } });
    expect(Number.isInteger(created.created_at)).toBe(true);
    expect(created).not.toHaveProperty('tool_resources');
    expect(await client.conversations.retrieve(created.id)).toEqual(created);

    const items = await client.conversations.items.list(created.id, { order: 'asc' });
    expect(items.data).toEqual([
      {
        id: expect.any(String),
        type: 'message',
        status: 'completed',
        role: 'user',
        content: [{ type: 'input_text', text: 'Where is my order?' }],
      },
      {
        id: expect.any(String),
        type: 'message',
        status: 'completed',
        role: 'developer',
        content: [{ type: 'input_text', text: 'Be brief.' }],
      },
    ]);
  });

  it('takes at most 20 items at creation, with an OpenAI-shaped error naming items', async () => {
    const items = Array.from({ length: 21 }, (_, index) => ({
      type: 'message' as const,
      role: 'user' as const,
      content: `m${index}`,
    }));
    const refused = await failure(client.conversations.create({ items }));
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ type: 'invalid_request_error', param: 'items', message: expect.any(String) });
    await expect(client.conversations.create({ items: items.slice(0, 20) })).resolves.toMatchObject({
      object: 'conversation',
    });
  });

  it('updates metadata, deletes, and answers 404 with an OpenAI error body after', async () => {
    const { id } = await client.conversations.create({});
    expect(await client.conversations.update(id, { metadata: { status: 'closed' } })).toMatchObject({
      id,
      metadata: { status: 'closed' },
    });
    expect(await client.conversations.delete(id)).toEqual({ id, object: 'conversation.deleted', deleted: true });
    const missing = await failure(client.conversations.retrieve(id));
    expect(missing.status).toBe(404);
    expect(missing.error).toMatchObject({ message: expect.any(String), type: 'invalid_request_error', param: null });
  });

  it('adds items, maps parts by role, and serves images as input_image', async () => {
    const { id } = await client.conversations.create({});
    const added = await client.conversations.items.create(id, {
      items: [
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }],
        },
        { type: 'message', role: 'assistant', content: 'It shipped.' },
        { type: 'message', role: 'user', content: [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }] },
      ],
    });
    expect(added).toMatchObject({ object: 'list', has_more: false });
    expect(added.data.map((item) => (item.type === 'message' ? item.content : null))).toEqual([
      [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }],
      [{ type: 'output_text', text: 'It shipped.', annotations: [], logprobs: [] }],
      [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }],
    ]);
    const [first] = added.data;
    expect(await client.conversations.items.retrieve(first?.id ?? '', { conversation_id: id })).toEqual(first);
  });

  it('lists with limit, order and after, and has no before', async () => {
    const { id } = await client.conversations.create({
      items: Array.from({ length: 5 }, (_, index) => ({
        type: 'message' as const,
        role: 'user' as const,
        content: `m${index}`,
      })),
    });
    const text = (data: unknown[]) =>
      data.map((item) => (item as { content: Array<{ text: string }> }).content[0]?.text ?? '');
    const desc = await client.conversations.items.list(id, { limit: 2 });
    expect(text(desc.data)).toEqual(['m4', 'm3']);
    expect(desc.has_more).toBe(true);
    expect(desc.last_id).toBe(desc.data[1]?.id);
    const next = await client.conversations.items.list(id, { limit: 10, after: desc.last_id });
    expect(text(next.data)).toEqual(['m2', 'm1', 'm0']);
    expect(next.has_more).toBe(false);
    const asc = await client.conversations.items.list(id, { order: 'asc', limit: 3 });
    expect(text(asc.data)).toEqual(['m0', 'm1', 'm2']);

    const before = await failure(client.get(`/conversations/${id}/items`, { query: { before: desc.last_id } }));
    expect(before.status).toBe(400);
    expect(before.error).toMatchObject({ param: 'before' });
    const limit = await failure(client.conversations.items.list(id, { limit: 101 }));
    expect(limit.status).toBe(400);
  });

  it('deletes an item and answers with the conversation; 404 for a missing item or conversation', async () => {
    const conversation = await client.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'x' }],
    });
    const [item] = (await client.conversations.items.list(conversation.id)).data;
    const itemId = item?.id ?? '';
    expect(await client.conversations.items.delete(itemId, { conversation_id: conversation.id })).toEqual(conversation);
    expect(
      (await failure(client.conversations.items.retrieve(itemId, { conversation_id: conversation.id }))).status,
    ).toBe(404);
    expect(
      (await failure(client.conversations.items.delete(itemId, { conversation_id: conversation.id }))).status,
    ).toBe(404);
    expect((await failure(client.conversations.items.list('conv_missing'))).status).toBe(404);
  });

  it('refuses items it cannot store (other item types, unknown roles) naming the param', async () => {
    const { id } = await client.conversations.create({});
    const refused = await failure(
      client.conversations.items.create(id, {
        items: [{ type: 'function_call_output', call_id: 'c', output: 'x' }],
      }),
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ param: 'items[0].type' });
  });

  it('answers a malformed percent-encoding in a path with 404, never 500, as the Threads routes do', async () => {
    const { id } = await client.conversations.create({});
    const paths = [
      '/conversations/%E0%A4%A',
      '/conversations/%ZZ/items',
      `/conversations/${id}/items/%ZZ`,
      `/conversations/${id}/items/%E0%A4%A`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'DELETE']) {
        const response = await fetch(`${served.url}${path}`, { method, headers: { authorization: 'Bearer sk-local' } });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
      }
    }
  });

  it('applies the per-message content caps of the Threads routes: 256,000 characters, 100 parts', async () => {
    const { id } = await client.conversations.create({});
    const add = (content: string | Array<{ type: 'input_text'; text: string }>) =>
      client.conversations.items.create(id, { items: [{ type: 'message', role: 'user', content }] });
    // Exactly at the caps is stored; one past either is refused, naming the content.
    await add('x'.repeat(256_000));
    await add(Array.from({ length: 100 }, () => ({ type: 'input_text' as const, text: 'x' })));
    await add([
      { type: 'input_text', text: '😀'.repeat(128_000) },
      { type: 'input_text', text: 'y'.repeat(128_000) },
    ]);
    for (const content of [
      'x'.repeat(256_001),
      Array.from({ length: 101 }, () => ({ type: 'input_text' as const, text: 'x' })),
      [
        { type: 'input_text' as const, text: 'x'.repeat(128_000) },
        { type: 'input_text' as const, text: 'y'.repeat(128_001) },
      ],
    ]) {
      const refused = await failure(add(content));
      expect(refused.status).toBe(400);
      expect(refused.error).toMatchObject({ param: 'items[0].content' });
    }
    const created = await failure(
      client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'x'.repeat(256_001) }] }),
    );
    expect(created.status).toBe(400);
    expect((await client.conversations.items.list(id, { limit: 100 })).data).toHaveLength(3);
  });

  it('remembers an Idempotency-Key per key: the same body answers the same conversation', async () => {
    const headers = { 'Idempotency-Key': 'k-1' };
    const first = await client.conversations.create({ metadata: { a: 'b' } }, { headers });
    const again = await client.conversations.create({ metadata: { a: 'b' } }, { headers });
    expect(again.id).toBe(first.id);
    expect((await failure(client.conversations.create({ metadata: { a: 'c' } }, { headers }))).status).toBe(409);
  });

  it('shares its store with the Threads routes: a conversation is a thread without tool resources', async () => {
    const conversation = await client.conversations.create({
      items: [{ type: 'message', role: 'assistant', content: 'hi' }],
    });
    const thread = await client.beta.threads.retrieve(conversation.id);
    expect(thread).toMatchObject({ id: conversation.id, tool_resources: null });
    const messages = await client.beta.threads.messages.list(conversation.id);
    expect(messages.data[0]).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: { value: 'hi' } }] });
  });
});
