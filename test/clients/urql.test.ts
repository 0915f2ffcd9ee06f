import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateMessageDocument,
  CreateThreadDocument,
  DeleteThreadDocument,
  GetMessageDocument,
  GetThreadDocument,
  GetThreadsDocument,
} from '../helpers/documents.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

describe('urql (@urql/core) against the running gateway', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  beforeEach(async () => {
    gateway = testGateway();
    served = await serveGateway(gateway);
  });
  afterEach(() => served.close());

  it('queries thread and threads, and runs mutations', async () => {
    const client = new Client({ url: served.url, exchanges: [cacheExchange, fetchExchange], preferGetMethod: false });
    const a = await client.mutation(CreateThreadDocument, { input: { metadata: { name: 'a' } } }).toPromise();
    const b = await client.mutation(CreateThreadDocument, { input: { metadata: { name: 'b' } } }).toPromise();
    expect(a.error).toBeUndefined();
    const idA = a.data?.createThread.id ?? '';
    const idB = b.data?.createThread.id ?? '';

    const one = await client.query(GetThreadDocument, { id: idA }).toPromise();
    expect(one.data?.thread?.metadata).toEqual({ name: 'a' });

    const many = await client.query(GetThreadsDocument, { ids: [idB, 'thread_missing', idA] }).toPromise();
    expect(many.data?.threads.map((thread) => thread?.metadata ?? null)).toEqual([{ name: 'b' }, null, { name: 'a' }]);

    const deleted = await client.mutation(DeleteThreadDocument, { id: idB }).toPromise();
    expect(deleted.data?.deleteThread).toMatchObject({ id: idB, deleted: true });
    const gone = await client.query(GetThreadDocument, { id: idB }, { requestPolicy: 'network-only' }).toPromise();
    expect(gone.data?.thread).toBeNull();
  });

  it('sends queries over GET when asked, as urql can', async () => {
    const client = new Client({ url: served.url, exchanges: [fetchExchange], preferGetMethod: 'force' });
    const created = await new Client({ url: served.url, exchanges: [fetchExchange] })
      .mutation(CreateThreadDocument, {})
      .toPromise();
    const read = await client.query(GetThreadDocument, { id: created.data?.createThread.id ?? '' }).toPromise();
    expect(read.error).toBeUndefined();
    expect(read.data?.thread?.id).toBe(created.data?.createThread.id);
  });

  it('reads a message’s union content, each part by its __typename', async () => {
    const client = new Client({ url: served.url, exchanges: [cacheExchange, fetchExchange] });
    const thread = await client.mutation(CreateThreadDocument, {}).toPromise();
    const threadId = thread.data?.createThread.id ?? '';
    const written = await client
      .mutation(CreateMessageDocument, {
        threadId,
        input: {
          role: 'USER',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
            { type: 'image_file', image_file: { file_id: 'file_9' } },
          ],
        },
      })
      .toPromise();
    expect(written.error).toBeUndefined();
    const read = await client
      .query(GetMessageDocument, { threadId, id: written.data?.createMessage.id ?? '' })
      .toPromise();
    const described = read.data?.message?.content.map((part) => {
      switch (part.__typename) {
        case 'TextContent':
          return `text:${part.text}`;
        case 'ImageUrlContent':
          return `url:${part.url}:${part.detail}`;
        case 'ImageFileContent':
          return `file:${part.fileId}`;
        case 'RefusalContent':
          return `refusal:${part.refusal}`;
        default:
          return 'unknown';
      }
    });
    expect(described).toEqual(['text:look', 'url:https://example.com/cat.png:high', 'file:file_9']);
    expect(read.data?.message?.role).toBe('USER');
  });
});
