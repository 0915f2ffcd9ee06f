import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/local-backend/backend.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';

describe('the local backend’s message endpoints, through the real openai SDK over HTTP', () => {
  let served: Awaited<ReturnType<typeof serveLocalBackend>>;
  let client: OpenAI;
  const headers = { authorization: 'Bearer sk-local', 'openai-beta': 'assistants=v2' };

  beforeEach(async () => {
    served = await serveLocalBackend(createLocalBackend());
    client = new OpenAI({ apiKey: 'sk-local', baseURL: served.url, maxRetries: 0 });
  });
  afterEach(() => served.close());

  it('creates, lists, retrieves, modifies and deletes messages with the API’s shapes', async () => {
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'first' }] });
    const created = await client.beta.threads.messages.create(thread.id, {
      role: 'assistant',
      content: [{ type: 'text', text: 'second' }],
      metadata: { k: 'v' },
    });
    expect(created).toMatchObject({
      object: 'thread.message',
      thread_id: thread.id,
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'text', text: { value: 'second', annotations: [] } }],
      attachments: null,
      metadata: { k: 'v' },
      assistant_id: null,
      run_id: null,
    });
    expect(created.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);

    const page = await fetch(`${served.url}/threads/${thread.id}/messages?order=asc`, { headers });
    const body = (await page.json()) as {
      object: string;
      data: Array<{ id: string }>;
      first_id: string;
      last_id: string;
      has_more: boolean;
    };
    expect(body).toMatchObject({ object: 'list', has_more: false, last_id: created.id });
    expect(body.data).toHaveLength(2);
    expect(body.first_id).toBe(body.data[0]?.id);

    expect(await client.beta.threads.messages.retrieve(created.id, { thread_id: thread.id })).toEqual(created);
    const modified = await client.beta.threads.messages.update(created.id, {
      thread_id: thread.id,
      metadata: { k: 'w' },
    });
    expect(modified.metadata).toEqual({ k: 'w' });
    expect(await client.beta.threads.messages.delete(created.id, { thread_id: thread.id })).toEqual({
      id: created.id,
      object: 'thread.message.deleted',
      deleted: true,
    });
    await expect(client.beta.threads.messages.retrieve(created.id, { thread_id: thread.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(client.beta.threads.messages.list('thread_missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('orders, pages and bounds lists as the API does; cursors must name a message of this thread', async () => {
    const thread = await client.beta.threads.create({
      messages: Array.from({ length: 5 }, (_, index) => ({ role: 'user' as const, content: `m${index}` })),
    });
    const other = await client.beta.threads.create({ messages: [{ role: 'user', content: 'elsewhere' }] });
    const text = (page: { data: Array<{ content: Array<{ type: string; text?: { value: string } }> }> }) =>
      page.data.map((message) => message.content[0]?.text?.value);
    const newest = await client.beta.threads.messages.list(thread.id, { limit: 2 });
    expect(text(newest)).toEqual(['m4', 'm3']);
    expect(newest.has_more).toBe(true);
    const all = await client.beta.threads.messages.list(thread.id, { order: 'asc' });
    const ids = all.data.map((message) => message.id);
    expect(text(all)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const after = await client.beta.threads.messages.list(thread.id, { order: 'asc', after: ids[1], limit: 2 });
    expect(text(after)).toEqual(['m2', 'm3']);
    expect(after.has_more).toBe(true);
    const before = await client.beta.threads.messages.list(thread.id, { order: 'asc', before: ids[3] });
    expect(text(before)).toEqual(['m0', 'm1', 'm2']);
    expect(before.has_more).toBe(false);

    const foreign = (await client.beta.threads.messages.list(other.id)).data[0]?.id ?? '';
    for (const query of [`after=${foreign}`, `before=${foreign}`, 'limit=0', 'limit=101', 'order=up', 'page=2']) {
      const response = await fetch(`${served.url}/threads/${thread.id}/messages?${query}`, { headers });
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
  });

  it('applies the shared limits to a message: content, its cap, attachments, metadata in code points, role', async () => {
    const thread = await client.beta.threads.create({});
    const at = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'x'.repeat(256_000),
      metadata: { ['🙂'.repeat(64)]: '🙂'.repeat(512) },
    });
    expect(Object.keys(at.metadata ?? {})).toHaveLength(1);
    for (const [body, param] of [
      [{ role: 'user', content: 'x'.repeat(256_001) }, 'content'],
      [{ role: 'system', content: 'x' }, 'role'],
      [{ role: 'user', content: '' }, 'content'],
      [{ role: 'user', content: 'x', metadata: { k: '🙂'.repeat(513) } }, 'metadata.k'],
      [
        { role: 'user', content: 'x', attachments: [{ file_id: 'f', tools: [{ type: 'x' }] }] },
        'attachments[0].tools[0].type',
      ],
      [{ role: 'user', content: 'x', extra: true }, 'extra'],
    ] as const) {
      const error = await client.beta.threads.messages
        .create(thread.id, body as never)
        .catch((caught: unknown) => caught);
      expect(error, param).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).param).toBe(param);
    }
  });

  it('deletes a thread’s messages with it', async () => {
    const store = new MemoryStore();
    const own = await serveLocalBackend(createLocalBackend({ store }));
    const ownClient = new OpenAI({ apiKey: 'sk-local', baseURL: own.url, maxRetries: 0 });
    const thread = await ownClient.beta.threads.create({ messages: [{ role: 'user', content: 'x' }] });
    const [message] = (await ownClient.beta.threads.messages.list(thread.id)).data;
    await ownClient.beta.threads.delete(thread.id);
    expect(await store.getMessage(thread.id, message?.id ?? '')).toBeUndefined();
    expect(await store.usedBytes()).toBe(0);
    await own.close();
  });

  it('returns the first message again for a repeated Idempotency-Key; another body under it is refused', async () => {
    const thread = await client.beta.threads.create({});
    const options = { headers: { 'Idempotency-Key': 'same' } };
    const first = await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' }, options);
    const second = await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' }, options);
    expect(second.id).toBe(first.id);
    expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(1);
    const other = await client.beta.threads.messages
      .create(thread.id, { role: 'user', content: 'y' }, options)
      .catch((caught: unknown) => caught);
    expect((other as { status?: number }).status).toBe(409);
  });

  it('answers a malformed percent-encoding in a path with 404, never 500', async () => {
    for (const path of ['/threads/%E0%A4%A', '/threads/thread_a/messages/%zz', '/threads/%/messages']) {
      const response = await fetch(`${served.url}${path}`, { headers });
      expect(response.status, path).toBe(404);
    }
  });

  it('refuses creates past the storage quota with a 4xx error body', async () => {
    const own = await serveLocalBackend(createLocalBackend({ store: new MemoryStore({ quotaBytes: 2_000 }) }));
    const ownClient = new OpenAI({ apiKey: 'sk-local', baseURL: own.url, maxRetries: 0 });
    const thread = await ownClient.beta.threads.create({});
    const error = await ownClient.beta.threads.messages
      .create(thread.id, { role: 'user', content: 'x'.repeat(3_000) })
      .catch((caught: unknown) => caught);
    expect((error as { status?: number }).status).toBe(429);
    expect((error as { code?: string }).code).toBe('storage_quota');
    await own.close();
  });
});
