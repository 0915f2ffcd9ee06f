import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/local-backend/backend.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';

describe('the embedded local backend, through the real openai SDK over HTTP', () => {
  let served: Awaited<ReturnType<typeof serveLocalBackend>>;
  let client: OpenAI;
  let backend: ReturnType<typeof createLocalBackend>;

  beforeEach(async () => {
    backend = createLocalBackend({ apiKeys: ['sk-local-good'] });
    served = await serveLocalBackend(backend);
    client = new OpenAI({ apiKey: 'sk-local-good', baseURL: served.url, maxRetries: 0 });
  });
  afterEach(() => served.close());

  it('creates, retrieves, modifies and deletes threads with the API’s shapes', async () => {
    const created = await client.beta.threads.create({
      metadata: { a: '1' },
      tool_resources: { code_interpreter: { file_ids: ['file_1'] } },
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(created.id).toMatch(/^thread_[A-Za-z0-9]{24}$/);
    expect(created.object).toBe('thread');
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(5);
    expect(created.metadata).toEqual({ a: '1' });
    expect(created.tool_resources).toEqual({ code_interpreter: { file_ids: ['file_1'] } });
    const stored = await backend.store.listMessages(created.id, { limit: 100, order: 'asc' });
    expect(stored.kind === 'ok' && stored.data[0]).toMatchObject({
      role: 'user',
      content: [{ type: 'text', text: { value: 'hello', annotations: [] } }],
    });

    expect(await client.beta.threads.retrieve(created.id)).toMatchObject({ id: created.id, metadata: { a: '1' } });
    const modified = await client.beta.threads.update(created.id, { metadata: { b: '2' } });
    expect(modified.metadata).toEqual({ b: '2' });
    expect(modified.tool_resources).toEqual({ code_interpreter: { file_ids: ['file_1'] } });
    expect(await client.beta.threads.delete(created.id)).toEqual({
      id: created.id,
      object: 'thread.deleted',
      deleted: true,
    });
    await expect(client.beta.threads.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers errors with the API’s body and an x-request-id', async () => {
    const response = await fetch(`${served.url}/threads/thread_missing`, {
      headers: { authorization: 'Bearer sk-local-good', 'openai-beta': 'assistants=v2' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await response.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'thread_not_found',
      },
    });
  });

  it('answers 401 without a key or with a wrong one', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-local-wrong', baseURL: served.url, maxRetries: 0 });
    await expect(wrong.beta.threads.create({})).rejects.toBeInstanceOf(AuthenticationError);
    const response = await fetch(`${served.url}/threads`, {
      method: 'POST',
      headers: { 'openai-beta': 'assistants=v2' },
    });
    expect(response.status).toBe(401);
  });

  it('requires the OpenAI-Beta: assistants=v2 header, as the API did', async () => {
    const response = await fetch(`${served.url}/threads`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-local-good', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(400);
  });

  const limits: Array<[string, Record<string, unknown>, string]> = [
    [
      '17 metadata pairs',
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata',
    ],
    ['a 65-character metadata key', { metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
    ['a 513-character metadata value', { metadata: { k: 'v'.repeat(513) } }, 'metadata.k'],
    ['a message with role system', { messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['a message with numeric content', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [
      '21 code_interpreter file ids',
      { tool_resources: { code_interpreter: { file_ids: Array.from({ length: 21 }, (_, i) => `file_${i}`) } } },
      'tool_resources.code_interpreter.file_ids',
    ],
    [
      '2 vector stores',
      { tool_resources: { file_search: { vector_store_ids: ['vs_1', 'vs_2'] } } },
      'tool_resources.file_search.vector_store_ids',
    ],
  ];
  for (const [name, body, param] of limits) {
    it(`refuses ${name} with 400 naming ${param}`, async () => {
      const error = await client.beta.threads.create(body as never).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).param).toBe(param);
    });
  }

  it('accepts input exactly at the limits', async () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]),
    );
    const thread = await client.beta.threads.create({
      metadata,
      tool_resources: {
        code_interpreter: { file_ids: Array.from({ length: 20 }, (_, i) => `file_${i}`) },
        file_search: { vector_store_ids: ['vs_1'] },
      },
      messages: [{ role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    });
    expect(Object.keys(thread.metadata ?? {})).toHaveLength(16);
  });

  it('returns the first thread again for a repeated Idempotency-Key from the same key', async () => {
    const first = await client.beta.threads.create({}, { headers: { 'Idempotency-Key': 'abc' } });
    const second = await client.beta.threads.create({}, { headers: { 'Idempotency-Key': 'abc' } });
    expect(second.id).toBe(first.id);
  });
});
