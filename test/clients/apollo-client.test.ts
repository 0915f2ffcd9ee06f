import { format } from 'node:util';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client/core';
import { relayStylePagination } from '@apollo/client/utilities';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import introspection from '../gql/possible-types.ts';
import {
  CreateMessageDocument,
  CreateThreadDocument,
  GetThreadDocument,
  MessageFieldsFragment,
  ThreadMessagesDocument,
  UpdateThreadDocument,
} from '../helpers/documents.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

describe('Apollo Client (@apollo/client core) against the running gateway', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  let requests = 0;
  beforeAll(async () => {
    gateway = testGateway();
    served = await serveGateway(gateway);
  });
  afterAll(() => served.close());

  it('creates, reads and updates threads; the normalised cache refreshes an earlier read without a refetch', async () => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({
        uri: served.url,
        fetch: (input, init) => {
          requests++;
          return fetch(input, init);
        },
      }),
    });
    const created = await client.mutate({
      mutation: CreateThreadDocument,
      variables: { input: { metadata: { stage: 'new' } } },
    });
    const id = created.data?.createThread.id ?? '';
    expect(id).toMatch(/^thread_/);

    const seen: unknown[] = [];
    const watched = client.watchQuery({ query: GetThreadDocument, variables: { id }, fetchPolicy: 'network-only' });
    const subscription = watched.subscribe((result) => seen.push(result.data?.thread?.metadata));
    await expect.poll(() => seen.at(-1)).toEqual({ stage: 'new' });

    const before = requests;
    await client.mutate({ mutation: UpdateThreadDocument, variables: { id, input: { metadata: { stage: 'done' } } } });
    await expect.poll(() => seen.at(-1)).toEqual({ stage: 'done' });
    // One request (the mutation): the watched query was updated from the cache, not refetched.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests - before).toBe(1);
    expect((client.cache.extract() as Record<string, unknown>)[`Thread:${id}`]).toMatchObject({
      metadata: { stage: 'done' },
    });
    subscription.unsubscribe();
  });

  it('pages through Thread.messages with relayStylePagination, merging pages in the cache', async () => {
    const client = new ApolloClient({
      cache: new InMemoryCache({
        possibleTypes: introspection.possibleTypes,
        typePolicies: { Thread: { fields: { messages: relayStylePagination(['order']) } } },
      }),
      link: new HttpLink({ uri: served.url }),
    });
    const created = await client.mutate({ mutation: CreateThreadDocument, variables: { input: {} } });
    const id = created.data?.createThread.id ?? '';
    for (let index = 0; index < 7; index++) {
      await client.mutate({
        mutation: CreateMessageDocument,
        variables: { threadId: id, input: { role: index % 2 ? 'ASSISTANT' : 'USER', content: `m${index}` } },
      });
    }
    const watched = client.watchQuery({ query: ThreadMessagesDocument, variables: { id, first: 3, order: 'ASC' } });
    const seen: string[][] = [];
    const subscription = watched.subscribe((result) =>
      seen.push((result.data?.thread?.messages?.edges ?? []).map((edge) => edge?.node?.text ?? '')),
    );
    await expect.poll(() => seen.at(-1)).toEqual(['m0', 'm1', 'm2']);
    const first = await client.query({ query: ThreadMessagesDocument, variables: { id, first: 3, order: 'ASC' } });
    let pageInfo = first.data?.thread?.messages.pageInfo;
    let pages = 1;
    while (pageInfo?.hasNextPage && pages < 10) {
      const more = await watched.fetchMore({ variables: { after: pageInfo.endCursor } });
      pageInfo = more.data?.thread?.messages.pageInfo;
      pages++;
    }
    expect(pages).toBe(3);
    await expect.poll(() => seen.at(-1)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    subscription.unsubscribe();
  });

  it('writes and reads back union content parts with the generated possibleTypes, and warns about none', async () => {
    // Apollo reports fragments it cannot match (no `possibleTypes` for the union) through console.error/warn.
    const printed: string[] = [];
    const spies = (['error', 'warn'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(format(...args))),
    );
    try {
      const client = new ApolloClient({
        cache: new InMemoryCache({ possibleTypes: introspection.possibleTypes }),
        link: new HttpLink({ uri: served.url }),
      });
      const thread = await client.mutate({ mutation: CreateThreadDocument, variables: { input: {} } });
      const written = await client.mutate({
        mutation: CreateMessageDocument,
        variables: {
          threadId: thread.data?.createThread.id ?? '',
          input: {
            role: 'USER',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
              { type: 'image_file', image_file: { file_id: 'file_9' } },
            ],
          },
        },
      });
      const cached = client.cache.readFragment({
        id: client.cache.identify({ __typename: 'ThreadMessage', id: written.data?.createMessage.id ?? '' }),
        fragment: MessageFieldsFragment,
      });
      expect(cached?.content).toEqual([
        { __typename: 'TextContent', text: 'look', annotations: [] },
        { __typename: 'ImageUrlContent', url: 'https://example.com/cat.png', detail: 'high' },
        { __typename: 'ImageFileContent', fileId: 'file_9', detail: null },
      ]);
      expect(printed).toEqual([]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
