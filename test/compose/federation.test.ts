import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Thread { id metadata } } }';

describe('Apollo Federation subgraph', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
  });
  afterEach(() => closeAll(gateway, upstream));

  it('resolves 50 references over 10 ids with 10 upstream GETs, through the request’s loader', async () => {
    const ids = await Promise.all(
      Array.from(
        { length: 10 },
        async (_, index) => (await upstream.store.createThread({ metadata: { n: String(index) } })).id,
      ),
    );
    const representations = Array.from({ length: 50 }, (_, index) => ({ __typename: 'Thread', id: ids[index % 10] }));
    const result = await execute(gateway, ENTITIES, { r: representations });
    expect(result.errors).toBeUndefined();
    const entities = (result.data as { _entities: Array<{ id: string; metadata: { n: string } }> })._entities;
    expect(entities).toHaveLength(50);
    expect(entities.map((entity) => entity.id)).toEqual(representations.map((representation) => representation.id));
    expect(upstream.count('GET')).toBe(10);
  });

  it('fails only the entry whose __typename names no entity type, with BAD_USER_INPUT, never a masked error', async () => {
    const id = (await upstream.store.createThread({})).id;
    const result = await execute(
      gateway,
      'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Thread { id } } }',
      {
        r: [
          { __typename: 'Nope', id },
          { __typename: 'ThreadMessage', id: 'msg_x', role: 'user' },
          { __typename: 'Thread', id },
          { __typename: 'Query' },
          { id },
        ],
      },
    );
    const entities = (result.data as { _entities: Array<{ id: string } | null> })._entities;
    expect(entities.map((entity) => entity?.id ?? null)).toEqual([null, null, id, null, null]);
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual(
      [0, 1, 3, 4].map((index) => [['_entities', index], 'BAD_USER_INPUT']),
    );
    expect(upstream.count('GET')).toBe(1);
  });

  it('answers null for a missing thread and fails only a malformed reference', async () => {
    const id = (await upstream.store.createThread({})).id;
    const result = await execute(gateway, ENTITIES, {
      r: [
        { __typename: 'Thread', id },
        { __typename: 'Thread', id: 'thread_missing' },
        { __typename: 'Thread', id: '../assistants' },
        // No id, a null one, a list: none is read as the thread "undefined", "null" or its element.
        { __typename: 'Thread' },
        { __typename: 'Thread', id: null },
        { __typename: 'Thread', id: ['thread_x'] },
      ],
    });
    const entities = (result.data as { _entities: Array<{ id: string } | null> })._entities;
    expect(entities.map((entity) => entity?.id ?? null)).toEqual([id, null, null, null, null, null]);
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual(
      [2, 3, 4, 5].map((index) => [['_entities', index], 'BAD_USER_INPUT']),
    );
    expect(upstream.count('GET')).toBe(2);
  });

  it('takes at most 100 representations, refusing more before any upstream call', async () => {
    const representations = Array.from({ length: 101 }, (_, index) => ({
      __typename: 'Thread',
      id: `thread_${index}`,
    }));
    const result = await execute(gateway, ENTITIES, { r: representations });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(upstream.seen).toHaveLength(0);
  });

  it('serves _service { sdl } with its federation directives, while introspection stays the public schema', async () => {
    const result = await execute(gateway, '{ _service { sdl } }');
    const sdl = (result.data as { _service: { sdl: string } })._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])');
    expect(sdl).toMatch(/type Thread implements Node\s+@key\(fields: "id"\)/);
  });

  it('composes with another subgraph that references Thread', async () => {
    const sdl = ((await execute(gateway, '{ _service { sdl } }')).data as { _service: { sdl: string } })._service.sdl;
    const reviews = /* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
      type Thread @key(fields: "id", resolvable: false) { id: ID! }
      type Review { id: ID! body: String! thread: Thread! }
      type Query { reviews: [Review!]! }
    `;
    const composed = composeServices([
      { name: 'threads', typeDefs: parse(sdl), url: 'http://threads.internal/graphql' },
      { name: 'reviews', typeDefs: parse(reviews), url: 'http://reviews.internal/graphql' },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    expect(composed.supergraphSdl).toContain('type Review');
    expect(composed.supergraphSdl).toMatch(/type Thread[^{]*@join__type\(graph: THREADS, key: "id"\)/);
  });
});

describe('Relay', () => {
  it('resolves node(id:) and nodes(ids:) with thread ids as global ids', async () => {
    const gateway = testGateway();
    const id = (await execute(gateway, 'mutation { createThread(input: { metadata: { a: "1" } }) { id } }')).data as {
      createThread: { id: string };
    };
    const threadId = id.createThread.id;
    const result = await execute(
      gateway,
      `query($id: ID!, $ids: [ID!]!) {
        node(id: $id) { __typename id ... on Thread { metadata } }
        nodes(ids: $ids) { __typename id }
      }`,
      { id: threadId, ids: [threadId, 'thread_missing'] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      node: { __typename: 'Thread', id: threadId, metadata: { a: '1' } },
      nodes: [{ __typename: 'Thread', id: threadId }, null],
    });
    const tooMany = await execute(gateway, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', {
      ids: Array.from({ length: 101 }, (_, index) => `thread_${index}`),
    });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
  });
});
