import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateThreadDocument,
  DeleteThreadDocument,
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
});
