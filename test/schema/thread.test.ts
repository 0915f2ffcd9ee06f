import { execute as graphqlExecute, parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateThreadDocument,
  DeleteThreadDocument,
  GetThreadDocument,
  GetThreadsDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { codes, execute, storedMessages, testGateway } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

describe('Thread schema on the embedded local backend', () => {
  let gateway: Gateway;
  beforeEach(() => {
    gateway = testGateway();
  });

  it('creates a thread with messages, tool resources and metadata, and reads it back', async () => {
    const created = await execute(gateway, CreateThreadDocument, {
      input: {
        metadata: { topic: 'billing' },
        toolResources: { code_interpreter: { file_ids: ['file_1'] } },
        messages: [{ role: 'USER', content: 'Hello', metadata: { lang: 'en' } }],
      },
    });
    expect(created.errors).toBeUndefined();
    const thread = created.data?.createThread;
    expect(thread?.id).toMatch(/^thread_[A-Za-z0-9]{24}$/);
    expect(thread?.createdAt).toBeGreaterThan(1_700_000_000);
    expect(thread?.createdAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(thread?.metadata).toEqual({ topic: 'billing' });
    expect(thread?.toolResources).toEqual({ code_interpreter: { file_ids: ['file_1'] } });

    const messages = await storedMessages(gateway, thread?.id ?? '');
    expect(messages).toHaveLength(1);
    expect(messages?.[0]).toMatchObject({ role: 'user', metadata: { lang: 'en' } });

    const read = await execute(gateway, GetThreadDocument, { id: thread?.id ?? '' });
    expect(read.data?.thread).toEqual(thread);
  });

  it('creates an empty thread without input, with metadata {} and toolResources null', async () => {
    const created = await execute(gateway, CreateThreadDocument, {});
    expect(created.data?.createThread.metadata).toEqual({});
    expect(created.data?.createThread.toolResources).toBeNull();
  });

  it('answers null without an error for a missing thread', async () => {
    const read = await execute(gateway, GetThreadDocument, { id: 'thread_doesnotexist000000000000' });
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({ thread: null });
  });

  it('returns threads(ids) in request order with null for missing ids', async () => {
    const a = (await execute(gateway, CreateThreadDocument, { input: { metadata: { n: 'a' } } })).data?.createThread.id;
    const b = (await execute(gateway, CreateThreadDocument, { input: { metadata: { n: 'b' } } })).data?.createThread.id;
    const read = await execute(gateway, GetThreadsDocument, { ids: [b ?? '', 'thread_missing', a ?? '', b ?? ''] });
    expect(read.errors).toBeUndefined();
    expect(read.data?.threads.map((thread) => thread?.metadata ?? null)).toEqual([
      { n: 'b' },
      null,
      { n: 'a' },
      { n: 'b' },
    ]);
  });

  it('updates only the given fields, each replacing the stored value', async () => {
    const id =
      (
        await execute(gateway, CreateThreadDocument, {
          input: { metadata: { a: '1' }, toolResources: { file_search: { vector_store_ids: ['vs_1'] } } },
        })
      ).data?.createThread.id ?? '';
    const updated = await execute(gateway, UpdateThreadDocument, { id, input: { metadata: { b: '2' } } });
    expect(updated.data?.updateThread.metadata).toEqual({ b: '2' });
    expect(updated.data?.updateThread.toolResources).toEqual({ file_search: { vector_store_ids: ['vs_1'] } });
  });

  it('deletes a thread, then reads null; NOT_FOUND for update and delete of a missing thread', async () => {
    const id = (await execute(gateway, CreateThreadDocument, {})).data?.createThread.id ?? '';
    const deleted = await execute(gateway, DeleteThreadDocument, { id });
    expect(deleted.data?.deleteThread).toEqual({ id, deleted: true });
    expect((await execute(gateway, GetThreadDocument, { id })).data?.thread).toBeNull();
    expect(codes(await execute(gateway, DeleteThreadDocument, { id }))).toEqual(['NOT_FOUND']);
    expect(codes(await execute(gateway, UpdateThreadDocument, { id, input: { metadata: {} } }))).toEqual(['NOT_FOUND']);
  });

  it('maps ThreadMessageRole to the wire values', async () => {
    const created = await execute(gateway, CreateThreadDocument, {
      input: { messages: [{ role: 'ASSISTANT', content: [{ type: 'text', text: 'Hi' }] }] },
    });
    const id = created.data?.createThread.id ?? '';
    expect((await storedMessages(gateway, id))[0]?.role).toBe('assistant');
  });
});

describe('batched, per-request reads (counted at a real HTTP upstream)', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ OPENAI_API_KEY: 'sk-test-server-key' }));
  });
  afterEach(() => closeAll(gateway, upstream));

  async function seedThreads(count: number): Promise<string[]> {
    return Promise.all(
      Array.from(
        { length: count },
        async (_, index) => (await upstream.store.createThread({ metadata: { n: String(index) } })).id,
      ),
    );
  }

  /**
   * Holds each upstream request until `size` are held at once (or 2 s pass, as they would when the
   * gateway sent them one after another), then forwards them together: a slow machine cannot make
   * concurrent GETs look sequential, and a broken bound still shows as a higher peak.
   */
  function holdInGroups(size: number): () => Promise<{ forward: true }> {
    let waiting: Array<() => void> = [];
    return async () => {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length < size) {
          setTimeout(resolve, 2000);
          return;
        }
        for (const release of waiting) release();
        waiting = [];
      });
      return { forward: true };
    };
  }

  it('makes exactly 10 concurrent GETs for 50 aliased thread(id:) over 10 ids', async () => {
    const ids = await seedThreads(10);
    let slow = 0;
    const held = holdInGroups(10);
    upstream.handler = async () => {
      slow++;
      return held();
    };
    const fields = Array.from(
      { length: 50 },
      (_, index) => `t${index}: thread(id: "${ids[index % 10]}") { id metadata }`,
    );
    const result = await execute(gateway, `{ ${fields.join('\n')} }`);
    expect(result.errors).toBeUndefined();
    expect(Object.keys(result.data ?? {})).toHaveLength(50);
    expect(upstream.count('GET', /^\/v1\/threads\/thread_/)).toBe(10);
    expect(slow).toBe(10);
    // All ten at once (one after another, the upstream would never see more than one in flight).
    expect(upstream.peakInFlight).toBe(10);
  });

  it('bounds the GETs one request has in flight (UPSTREAM_CONCURRENCY)', async () => {
    await gateway.close();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, UPSTREAM_CONCURRENCY: '3' });
    const ids = await seedThreads(12);
    upstream.handler = holdInGroups(3);
    const result = await execute(gateway, GetThreadsDocument, { ids });
    expect(result.data?.threads).toHaveLength(12);
    expect(upstream.count('GET')).toBe(12);
    expect(upstream.peakInFlight).toBe(3);
  });

  it('gives each request its own loader: two requests for one id make two GETs', async () => {
    const [id = ''] = await seedThreads(1);
    await execute(gateway, GetThreadDocument, { id });
    await execute(gateway, GetThreadDocument, { id });
    expect(upstream.count('GET')).toBe(2);
  });

  it('primes the loader with mutation results: no GET after an update, null after a delete', async () => {
    const [id = '', other = ''] = await seedThreads(2);
    // One request's context, shared by the operations it runs, as a composed graph would.
    const context = gateway.createContext(new Request('http://gateway.test/graphql'));
    const run = (source: string) =>
      graphqlExecute({ schema: gateway.schema, document: parse(source), contextValue: context });

    const updated = await run(`mutation { updateThread(id: "${id}", input: { metadata: { k: "v" } }) { id } }`);
    expect(updated.errors).toBeUndefined();
    const readBack = await run(`{ thread(id: "${id}") { metadata } }`);
    expect(readBack.data).toEqual({ thread: { metadata: { k: 'v' } } });
    expect(upstream.count('GET')).toBe(0);

    await run(`mutation { deleteThread(id: "${other}") { deleted } }`);
    const afterDelete = await run(`{ thread(id: "${other}") { id } threads(ids: ["${other}"]) { id } }`);
    expect(afterDelete).toEqual({ data: { thread: null, threads: [null] } });
    expect(upstream.count('GET')).toBe(0);

    // A new request has a new loader and does go upstream.
    await execute(gateway, GetThreadDocument, { id });
    expect(upstream.count('GET')).toBe(1);
  });

  it('sends only the fields present in the update input, and an explicit null as null', async () => {
    const [id = ''] = await seedThreads(1);
    await execute(gateway, UpdateThreadDocument, { id, input: { metadata: { a: 'b' } } });
    await execute(gateway, UpdateThreadDocument, { id, input: { toolResources: null } });
    const bodies = upstream.seen
      .filter((request) => request.method === 'POST')
      .map((request) => JSON.parse(request.body));
    expect(bodies).toEqual([{ metadata: { a: 'b' } }, { tool_resources: null }]);
  });

  it('sends the wire format upstream, with the Assistants v2 header and the server key', async () => {
    await execute(gateway, CreateThreadDocument, {
      input: {
        toolResources: { file_search: { vector_store_ids: ['vs_1'] } },
        messages: [
          { role: 'USER', content: 'hi', attachments: [{ file_id: 'file_1', tools: [{ type: 'file_search' }] }] },
        ],
      },
    });
    const [post] = upstream.seen;
    expect(post?.path).toBe('/v1/threads');
    expect(post?.headers['openai-beta']).toBe('assistants=v2');
    expect(post?.headers.authorization).toBe('Bearer sk-test-server-key');
    expect(JSON.parse(post?.body ?? '')).toEqual({
      tool_resources: { file_search: { vector_store_ids: ['vs_1'] } },
      messages: [
        { role: 'user', content: 'hi', attachments: [{ file_id: 'file_1', tools: [{ type: 'file_search' }] }] },
      ],
    });
  });
});
