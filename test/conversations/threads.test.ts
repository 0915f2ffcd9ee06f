import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateThreadDocument,
  DeleteThreadDocument,
  GetThreadDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute } from '../helpers/gateway.ts';
import type { Reply } from '../helpers/test-upstream.ts';
import { type ConversationsTarget, conversationsUpstream, targets } from './targets.ts';

// The Thread rows of the mapping, in conversations mode, against each target.

describe.each(targets)('threads over the Conversations API, against %s', (_name, start) => {
  let target: ConversationsTarget;
  afterEach(async () => {
    await target?.close();
  });

  it('creates a thread as a conversation: messages become items, tool resources read null', async () => {
    target = await start();
    const created = await execute(target.gateway, CreateThreadDocument, {
      input: {
        metadata: { customer: 'c_42' },
        messages: [
          { role: 'USER', content: 'Where is my order?' },
          { role: 'ASSISTANT', content: [{ type: 'text', text: 'It shipped.' }] },
        ],
      },
    });
    expect(created.errors).toBeUndefined();
    const thread = created.data?.createThread;
    expect(thread).toMatchObject({ metadata: { customer: 'c_42' }, toolResources: null });
    expect(Number.isInteger(thread?.createdAt)).toBe(true);
    const stored = await target.backend.store.listMessages(thread?.id ?? '', { limit: 10, order: 'asc' });
    expect(stored.kind === 'ok' && stored.data.map((message) => [message.role, message.content])).toEqual([
      ['user', [{ type: 'text', text: { value: 'Where is my order?', annotations: [] } }]],
      ['assistant', [{ type: 'text', text: { value: 'It shipped.', annotations: [] } }]],
    ]);
    if (target.upstream) {
      const [post] = target.upstream.seen.filter((request) => request.method === 'POST');
      expect(post?.path).toBe('/v1/conversations');
      expect(JSON.parse(post?.body ?? '{}')).toEqual({
        metadata: { customer: 'c_42' },
        items: [
          { type: 'message', role: 'user', content: 'Where is my order?' },
          {
            type: 'message',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'It shipped.', annotations: [] }],
          },
        ],
      });
    }
  });

  it('starts a thread with SYSTEM and DEVELOPER messages, which the Conversations API takes', async () => {
    target = await start();
    const created = await execute(target.gateway, CreateThreadDocument, {
      input: {
        messages: [
          { role: 'SYSTEM', content: 'Be brief.' },
          { role: 'DEVELOPER', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
        ],
      },
    } as never);
    expect(created.errors).toBeUndefined();
    const stored = await target.backend.store.listMessages(created.data?.createThread.id ?? '', {
      limit: 10,
      order: 'asc',
    });
    expect(stored.kind === 'ok' && stored.data.map((message) => [message.role, message.content])).toEqual([
      ['system', [{ type: 'text', text: { value: 'Be brief.', annotations: [] } }]],
      ['developer', [{ type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'auto' } }]],
    ]);
  });

  it('reads, updates metadata of, and deletes a conversation as a thread', async () => {
    target = await start();
    const { id } = await target.backend.store.createThread({ metadata: { a: '1' } });
    const read = await execute(target.gateway, GetThreadDocument, { id });
    expect(read.data?.thread).toMatchObject({ id, metadata: { a: '1' }, toolResources: null });

    const updated = await execute(target.gateway, UpdateThreadDocument, {
      id,
      input: { metadata: { status: 'closed' } },
    });
    expect(updated.data?.updateThread).toMatchObject({ id, metadata: { status: 'closed' } });

    const deleted = await execute(target.gateway, DeleteThreadDocument, { id });
    expect(deleted.data?.deleteThread).toEqual({ id, deleted: true });
    const gone = await execute(target.gateway, GetThreadDocument, { id });
    expect(gone.data?.thread).toBeNull();
    expect(gone.errors).toBeUndefined();
    expect(codes(await execute(target.gateway, DeleteThreadDocument, { id }))).toEqual(['NOT_FOUND']);
    expect(codes(await execute(target.gateway, UpdateThreadDocument, { id, input: { metadata: {} } }))).toEqual([
      'NOT_FOUND',
    ]);
    if (target.upstream) {
      expect(target.upstream.count('POST', /^\/v1\/conversations\/[^/]+$/)).toBeGreaterThanOrEqual(1);
      expect(target.upstream.count('DELETE', /^\/v1\/conversations\/[^/]+$/)).toBe(2);
      expect(target.upstream.count('GET', /^\/v1\/threads/)).toBe(0);
    }
  });

  const refusals: Array<[string, unknown, string, RegExp]> = [
    [
      'tool resources on create',
      { toolResources: { code_interpreter: { file_ids: ['file_1'] } } },
      'input.toolResources',
      /toolResources.*Conversations API/,
    ],
    [
      'message attachments',
      {
        messages: [
          { role: 'USER', content: 'x', attachments: [{ file_id: 'file_1', tools: [{ type: 'file_search' }] }] },
        ],
      },
      'input.messages[0].attachments',
      /attachments.*Conversations API/,
    ],
    [
      'message metadata',
      {
        messages: [
          { role: 'USER', content: 'x' },
          { role: 'USER', content: 'y', metadata: { k: 'v' } },
        ],
      },
      'input.messages[1].metadata',
      /metadata.*Conversations API/,
    ],
  ];
  for (const [name, input, argument, message] of refusals) {
    it(`refuses ${name} with UNSUPPORTED_BY_UPSTREAM before any upstream call`, async () => {
      target = await start();
      const result = await execute(target.gateway, CreateThreadDocument, { input } as never);
      expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
      expect(result.errors?.[0]?.extensions?.argument).toBe(argument);
      expect(result.errors?.[0]?.message).toMatch(message);
      if (target.upstream) expect(target.upstream.seen).toHaveLength(0);
    });
  }

  it('refuses tool resources on update with UNSUPPORTED_BY_UPSTREAM, and allows toolResources: null', async () => {
    target = await start();
    const { id } = await target.backend.store.createThread({});
    const refused = await execute(target.gateway, UpdateThreadDocument, {
      id,
      input: { toolResources: { file_search: { vector_store_ids: ['vs_1'] } } },
    });
    expect(codes(refused)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    if (target.upstream) expect(target.upstream.seen).toHaveLength(0);
    const cleared = await execute(target.gateway, UpdateThreadDocument, { id, input: { toolResources: null } });
    expect(cleared.data?.updateThread).toMatchObject({ id, toolResources: null });
  });

  it('refuses more than 20 initial messages with BAD_USER_INPUT naming the upstream’s limit', async () => {
    target = await start();
    const messages = Array.from({ length: 21 }, (_, index) => ({ role: 'USER', content: `m${index}` }));
    const result = await execute(target.gateway, CreateThreadDocument, { input: { messages } } as never);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toMatch(/at most 20.*createMessage/);
    if (target.upstream) expect(target.upstream.seen).toHaveLength(0);
    const twenty = await execute(target.gateway, CreateThreadDocument, {
      input: { messages: messages.slice(0, 20) },
    } as never);
    expect(twenty.errors).toBeUndefined();
  });
});

describe('creates over the Conversations API keep the hardening rules', () => {
  let close: () => Promise<void> = async () => undefined;
  afterEach(() => close());

  function onceThenForward(first: Reply) {
    let done = false;
    return (request: { method: string }) => {
      if (request.method === 'POST' && !done) {
        done = true;
        return first;
      }
      return { forward: true } as const;
    };
  }

  it('never resends a create whose outcome is unknown, and a retry with the same key finds it', async () => {
    const { upstream, gateway } = await conversationsUpstream(
      onceThenForward({ forward: true, spoil: 'drop-connection' }),
    );
    close = async () => {
      await gateway.close();
      await upstream.close();
    };
    const input = { metadata: { n: '1' }, idempotencyKey: 'order-42' };
    const first = await execute(gateway, CreateThreadDocument, { input });
    expect(codes(first)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(first.errors?.[0]?.extensions?.outcome).toBe('unknown');
    expect(upstream.count('POST', /^\/v1\/conversations$/)).toBe(1);

    const again = await execute(gateway, CreateThreadDocument, { input });
    expect(again.errors).toBeUndefined();
    const posts = upstream.seen.filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(2);
    const [key1, key2] = posts.map((request) => request.headers['idempotency-key']);
    expect(key1).toBeTruthy();
    expect(key1).toBe(key2);
    expect(key1).not.toBe('order-42');
    // The upstream honoured the scoped key: one conversation, the one the first attempt made.
    const stored = await upstream.backend.store.getThread(again.data?.createThread.id ?? '');
    expect(stored?.metadata).toEqual({ n: '1' });
  });

  it('retries a create after a 429, which proves nothing was created', async () => {
    const { upstream, gateway } = await conversationsUpstream(onceThenForward({ status: 429 }));
    close = async () => {
      await gateway.close();
      await upstream.close();
    };
    const result = await execute(gateway, CreateThreadDocument, {});
    expect(result.errors).toBeUndefined();
    expect(upstream.count('POST', /^\/v1\/conversations$/)).toBe(2);
  });
});
