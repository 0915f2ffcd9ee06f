import { ApolloClient, HttpLink, InMemoryCache, split } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import introspection from '../gql/possible-types.ts';
import { CreateThreadDocument, StartEchoRunDocument, WatchRunDocument } from '../helpers/documents.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

type WatchEvent = { __typename: string; text?: string; message?: { text: string }; run?: { status: string } };

/** What a client saw of one run: the deltas joined, the completed message's text, the last status. */
function summary(events: WatchEvent[]) {
  return {
    joined: events
      .filter((event) => event.__typename === 'MessageTextDelta')
      .map((event) => event.text)
      .join(''),
    completed: events.find((event) => event.__typename === 'MessageCompleted')?.message?.text,
    last: events.at(-1)?.run?.status,
  };
}

const TEXT = 'Danke schön — 你好 🌍, '.repeat(120);

describe('subscriptions with real clients against the running gateway', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  let wsUrl: string;
  beforeAll(async () => {
    gateway = testGateway();
    served = await serveGateway(gateway);
    wsUrl = served.url.replace(/^http/, 'ws');
  });
  afterAll(async () => {
    await served.close();
    await gateway.close();
  });

  async function startRun(client: Client): Promise<{ threadId: string; runId: string }> {
    const thread = await client
      .mutation(CreateThreadDocument, { input: { messages: [{ role: 'USER', content: TEXT }] } })
      .toPromise();
    const threadId = thread.data?.createThread.id ?? '';
    const run = await client.mutation(StartEchoRunDocument, { threadId }).toPromise();
    return { threadId, runId: run.data?.createRun.runId ?? '' };
  }

  function watchWithUrql(client: Client, variables: { threadId: string; runId: string }): Promise<WatchEvent[]> {
    const events: WatchEvent[] = [];
    return new Promise((resolve, reject) => {
      client.subscription(WatchRunDocument, variables).subscribe((result) => {
        if (result.error) reject(result.error);
        else if (result.data) events.push(result.data.runEvents as WatchEvent);
        if (!result.hasNext && !result.stale && result.data?.runEvents.__typename === 'RunStatusChanged') {
          const status = (result.data.runEvents as WatchEvent).run?.status;
          if (status === 'COMPLETED') resolve(events);
        }
      });
    });
  }

  it('urql over SSE (fetchSubscriptions) reads a run as it is written', async () => {
    const client = new Client({ url: served.url, exchanges: [fetchExchange], fetchSubscriptions: true });
    const events = await watchWithUrql(client, await startRun(client));
    expect(summary(events)).toEqual({ joined: TEXT, completed: TEXT, last: 'COMPLETED' });
  });

  it('urql over graphql-ws (subscriptionExchange) reads the same', async () => {
    const ws = createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const client = new Client({
      url: served.url,
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
      ],
    });
    try {
      const events = await watchWithUrql(client, await startRun(client));
      expect(summary(events)).toEqual({ joined: TEXT, completed: TEXT, last: 'COMPLETED' });
    } finally {
      await ws.dispose();
    }
  });

  it('Apollo Client 4 with GraphQLWsLink for subscriptions, HttpLink for the rest', async () => {
    const ws = createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const link = split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      new GraphQLWsLink(ws),
      new HttpLink({ uri: served.url }),
    );
    // Each event replaces the last under the subscription's root field; `merge: false` says so, which
    // keeps Apollo from warning on every event that cache data may be lost (docs/live.md, Clients).
    const cache = new InMemoryCache({
      possibleTypes: introspection.possibleTypes,
      typePolicies: {
        Subscription: { fields: { runEvents: { merge: false }, threadEvents: { merge: false } } },
      },
    });
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args);
    };
    const apollo = new ApolloClient({ link, cache });
    try {
      const urql = new Client({ url: served.url, exchanges: [fetchExchange] });
      const variables = await startRun(urql);
      const events = await new Promise<WatchEvent[]>((resolve, reject) => {
        const seen: WatchEvent[] = [];
        apollo.subscribe({ query: WatchRunDocument, variables }).subscribe({
          next: (result) => {
            if (result.data) seen.push(result.data.runEvents as WatchEvent);
          },
          error: reject,
          complete: () => resolve(seen),
        });
      });
      expect(summary(events)).toEqual({ joined: TEXT, completed: TEXT, last: 'COMPLETED' });
      expect(warnings).toEqual([]);
    } finally {
      console.warn = warn;
      apollo.stop();
      await ws.dispose();
    }
  });
});
