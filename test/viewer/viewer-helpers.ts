import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Gateway } from '../../src/app.ts';
import { CreateThreadDocument, ViewerThreadIdsDocument } from '../helpers/documents.ts';
import type { GraphQLResponse } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

/** A gateway on a free port, spoken to over real HTTP with a bearer token. */
export interface Served {
  gateway: Gateway;
  post<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
    token?: string,
  ): Promise<GraphQLResponse<TData> & { extensions?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function served(gateway: Gateway): Promise<Served> {
  const server = await serveGateway(gateway);
  return {
    gateway,
    async post(document, variables, token) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      return { status: response.status, headers: response.headers, ...body } as never;
    },
    close: async () => {
      await server.close();
      await gateway.close();
    },
  };
}

export interface Made {
  id: string;
  createdAt: number;
  metadata: Record<string, string>;
}

/** Creates `count` threads as `token`, ten at a time, with metadata from their number. */
export async function createThreads(
  app: Served,
  token: string,
  count: number,
  metadataOf: (n: number) => Record<string, string>,
): Promise<Made[]> {
  const made: Made[] = [];
  for (let start = 0; start < count; start += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, async (_, i) => {
        const metadata = metadataOf(start + i);
        const answer = await app.post(CreateThreadDocument, { input: { metadata } }, token);
        if (answer.errors || !answer.data) throw new Error(JSON.stringify(answer.errors));
        return { id: answer.data.createThread.id, createdAt: answer.data.createThread.createdAt, metadata };
      }),
    );
    made.push(...batch);
  }
  return made;
}

/** Newest first: created-at, then id, both descending. */
export function newestFirst(threads: readonly Made[]): string[] {
  return [...threads]
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((thread) => thread.id);
}

/** Every id of the caller's list, paging forward (`first`/`after`) or backward (`last`/`before`). */
export async function walk(
  app: Served,
  token: string,
  options: { backward?: boolean; size?: number; metadata?: Record<string, string>; order?: 'ASC' | 'DESC' } = {},
): Promise<{ ids: string[]; totalCount: number; pages: number[] }> {
  const size = options.size ?? 40;
  const ids: string[] = [];
  const pages: number[] = [];
  let cursor: string | null | undefined;
  let totalCount = -1;
  for (let page = 0; page < 100; page += 1) {
    const variables = {
      ...(options.backward ? { last: size, before: cursor } : { first: size, after: cursor }),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.order ? { order: options.order } : {}),
    };
    const answer = await app.post(ViewerThreadIdsDocument, variables, token);
    if (answer.errors || !answer.data) throw new Error(JSON.stringify(answer.errors));
    const connection = answer.data.viewer.threads;
    totalCount = connection.totalCount;
    const pageIds = connection.edges.map((edge) => edge.node.id);
    pages.push(pageIds.length);
    if (options.backward) ids.unshift(...pageIds);
    else ids.push(...pageIds);
    const more = options.backward ? connection.pageInfo.hasPreviousPage : connection.pageInfo.hasNextPage;
    if (!more) return { ids, totalCount, pages };
    cursor = options.backward ? connection.pageInfo.startCursor : connection.pageInfo.endCursor;
  }
  throw new Error('the list never ended');
}
