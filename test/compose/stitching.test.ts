import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { stitchSchemas } from '@graphql-tools/stitch';
import { schemaFromExecutor } from '@graphql-tools/wrap';
import { execute as graphqlExecute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

describe('schema stitching: the gateway as a remote schema in a larger graph', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  const gatewayRequests: Array<{ query: string; variables: Record<string, unknown> }> = [];
  let threadIds: string[] = [];

  beforeAll(async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    served = await serveGateway(gateway);
    threadIds = await Promise.all(
      Array.from(
        { length: 150 },
        async (_, index) => (await upstream.store.createThread({ metadata: { n: String(index) } })).id,
      ),
    );
  });
  afterAll(async () => {
    await served.close();
    await gateway.close();
    await upstream.close();
  });

  async function stitched() {
    const executor = buildHTTPExecutor({
      endpoint: served.url,
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        gatewayRequests.push(JSON.parse(String(init?.body ?? '{}')));
        return fetch(input, init);
      },
    });
    const threadsSubschema = {
      schema: await schemaFromExecutor(executor),
      executor,
      merge: {
        // Many parents' thread references become threads(ids:) calls of at most 100 ids.
        Thread: {
          selectionSet: '{ id }',
          fieldName: 'threads',
          key: ({ id }: { id: string }) => id,
          argsFromKeys: (ids: readonly string[]) => ({ ids }),
          dataLoaderOptions: { maxBatchSize: 100 },
        },
      },
    };
    const ordersSubschema = {
      schema: makeExecutableSchema({
        typeDefs: /* GraphQL */ `
          type Thread { id: ID! }
          type Order { id: ID! thread: Thread }
          type Query { orders(count: Int!): [Order!]! }
        `,
        resolvers: {
          Query: {
            orders: (_root: unknown, { count }: { count: number }) =>
              threadIds.slice(0, count).map((id, index) => ({ id: `order_${index}`, thread: { id } })),
          },
        },
      }),
    };
    return stitchSchemas({ subschemas: [threadsSubschema, ordersSubschema] });
  }

  it('resolves 150 parents’ thread ids into Threads with two batched threads(ids:) calls', async () => {
    const schema = await stitched();
    gatewayRequests.length = 0;
    upstream.seen.length = 0;
    const result = await graphqlExecute({
      schema,
      document: parse('{ orders(count: 150) { id thread { id createdAt metadata } } }'),
    });
    expect(result.errors).toBeUndefined();
    const orders = (result.data as { orders: Array<{ thread: { id: string; metadata: { n: string } } }> }).orders;
    expect(orders).toHaveLength(150);
    orders.forEach((order, index) => {
      expect(order.thread.id).toBe(threadIds[index]);
      expect(order.thread.metadata).toEqual({ n: String(index) });
    });
    expect(gatewayRequests).toHaveLength(2);
    const batchSizes = gatewayRequests.map((request) => {
      const ids = Object.values(request.variables).find(Array.isArray) as unknown[];
      return ids.length;
    });
    expect(batchSizes.sort((a, b) => a - b)).toEqual([50, 100]);
    expect(upstream.count('GET')).toBe(150);
  });
});
