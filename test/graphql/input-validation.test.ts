import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateThreadDocument,
  DeleteThreadDocument,
  GetThreadDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

describe('input is validated before any upstream call', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
  });
  afterEach(() => closeAll(gateway, upstream));

  const badIds = [
    '../assistants',
    'thread_x/../../files',
    'thread_x?limit=1',
    '%2e%2e',
    '',
    'x'.repeat(5000),
    'thread_\u0000',
    'thread_\n',
    'thread x',
    'thread_#frag',
    'thread_é',
    'x'.repeat(129),
  ];
  for (const id of badIds) {
    it(`refuses the id ${JSON.stringify(id.slice(0, 24))}${id.length > 24 ? '…' : ''} in every argument`, async () => {
      const before = upstream.seen.length;
      for (const result of [
        await execute(gateway, GetThreadDocument, { id }),
        await execute(gateway, UpdateThreadDocument, { id, input: {} }),
        await execute(gateway, DeleteThreadDocument, { id }),
      ]) {
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.message).toMatch(/^id: /);
      }
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('accepts ids of exactly 1 and 128 characters and sends them on a /threads/{id} path', async () => {
    for (const id of ['a', 'A'.repeat(128), 'thread_abc-DEF_123']) {
      const result = await execute(gateway, GetThreadDocument, { id });
      expect(result.errors).toBeUndefined();
    }
    for (const request of upstream.seen) expect(request.path).toMatch(/^\/v1\/threads\/[A-Za-z0-9_-]{1,128}$/);
  });

  const exactlyAtLimit = Object.fromEntries(
    Array.from({ length: 16 }, (_, index) => [String(index).padEnd(64, 'k'), 'v'.repeat(512)]),
  );
  const badInputs: Array<[string, Record<string, unknown>, string]> = [
    ['metadata that is an array', { metadata: ['a'] }, 'input.metadata'],
    ['metadata that is a string', { metadata: 'a' }, 'input.metadata'],
    ['17 metadata keys', { metadata: { ...exactlyAtLimit, extra: 'x' } }, 'input.metadata'],
    ['a 65-character metadata key', { metadata: { ['k'.repeat(65)]: 'v' } }, 'input.metadata'],
    ['a 513-character metadata value', { metadata: { k: 'v'.repeat(513) } }, 'input.metadata.k'],
    ['a numeric metadata value', { metadata: { k: 5 } }, 'input.metadata.k'],
    ['an empty string message', { messages: [{ role: 'USER', content: '' }] }, 'input.messages[0].content'],
    ['an empty content array', { messages: [{ role: 'USER', content: [] }] }, 'input.messages[0].content'],
    [
      'content that is an object',
      { messages: [{ role: 'USER', content: { text: 'x' } }] },
      'input.messages[0].content',
    ],
    [
      'an unknown content part type',
      { messages: [{ role: 'USER', content: [{ type: 'audio' }] }] },
      'input.messages[0].content[0].type',
    ],
    [
      'a text part without text',
      { messages: [{ role: 'USER', content: [{ type: 'text' }] }] },
      'input.messages[0].content[0].text',
    ],
    [
      'an image_file part without file_id',
      { messages: [{ role: 'USER', content: [{ type: 'image_file', image_file: {} }] }] },
      'input.messages[0].content[0].image_file.file_id',
    ],
    [
      'an image_url part without url',
      { messages: [{ role: 'USER', content: [{ type: 'image_url', image_url: { detail: 'low' } }] }] },
      'input.messages[0].content[0].image_url.url',
    ],
    [
      'attachments that are an object',
      { messages: [{ role: 'USER', content: 'x', attachments: { file_id: 'f' } }] },
      'input.messages[0].attachments',
    ],
    [
      'an attachment without file_id',
      { messages: [{ role: 'USER', content: 'x', attachments: [{ tools: [] }] }] },
      'input.messages[0].attachments[0].file_id',
    ],
    [
      'an attachment with a bad tool',
      { messages: [{ role: 'USER', content: 'x', attachments: [{ file_id: 'f', tools: [{ type: 'web' }] }] }] },
      'input.messages[0].attachments[0].tools[0].type',
    ],
    [
      'message metadata over the limit',
      { messages: [{ role: 'USER', content: 'x', metadata: { k: 'v'.repeat(513) } }] },
      'input.messages[0].metadata.k',
    ],
    ['an unknown tool resources section', { toolResources: { web_search: {} } }, 'input.toolResources.web_search'],
    [
      '21 code_interpreter file ids',
      { toolResources: { code_interpreter: { file_ids: Array.from({ length: 21 }, (_, i) => `f${i}`) } } },
      'input.toolResources.code_interpreter.file_ids',
    ],
    [
      '2 vector store ids',
      { toolResources: { file_search: { vector_store_ids: ['a', 'b'] } } },
      'input.toolResources.file_search.vector_store_ids',
    ],
    [
      'a non-array file_ids',
      { toolResources: { code_interpreter: { file_ids: 'f' } } },
      'input.toolResources.code_interpreter.file_ids',
    ],
    ['an idempotency key with spaces', { idempotencyKey: 'a b' }, 'input.idempotencyKey'],
  ];
  for (const [name, input, argument] of badInputs) {
    it(`refuses ${name}, naming ${argument}`, async () => {
      const before = upstream.seen.length;
      const result = await execute(gateway, CreateThreadDocument, { input } as never);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.message.startsWith(argument)).toBe(true);
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('validates updateThread input the same way', async () => {
    const before = upstream.seen.length;
    const result = await execute(gateway, UpdateThreadDocument, { id: 'thread_x', input: { metadata: { k: 1 } } });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toMatch(/^input\.metadata\.k/);
    expect(upstream.seen.length).toBe(before);
  });

  it('accepts input exactly at every limit', async () => {
    const result = await execute(gateway, CreateThreadDocument, {
      input: {
        metadata: exactlyAtLimit,
        toolResources: {
          code_interpreter: { file_ids: Array.from({ length: 20 }, (_, i) => `file_${i}`) },
          file_search: { vector_store_ids: ['vs_1'] },
        },
        messages: [
          {
            role: 'USER',
            content: [
              { type: 'text', text: 'hi' },
              { type: 'image_file', image_file: { file_id: 'file_1', detail: 'high' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            ],
            attachments: [{ file_id: 'file_2', tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] }],
            metadata: exactlyAtLimit,
          },
        ],
      },
    });
    expect(result.errors).toBeUndefined();
    expect(Object.keys(result.data?.createThread.metadata as object)).toHaveLength(16);
  });

  it('keeps metadata keys named like Object.prototype members (__proto__, constructor) on the way back', async () => {
    // JSON.parse makes "__proto__" an own key, as any JSON client sends it: it is a key like another.
    const metadata = JSON.parse('{"__proto__": "p", "constructor": "c", "plain": "x"}') as Record<string, string>;
    const created = await execute(gateway, CreateThreadDocument, { input: { metadata } });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createThread.id ?? '';
    const read = await execute(gateway, GetThreadDocument, { id });
    for (const answer of [created.data?.createThread.metadata, read.data?.thread?.metadata]) {
      expect(Object.entries(answer as object)).toEqual([
        ['__proto__', 'p'],
        ['constructor', 'c'],
        ['plain', 'x'],
      ]);
    }
  });
});
