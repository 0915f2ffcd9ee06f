import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';
import { startTestUpstream } from '../helpers/test-upstream.ts';

/**
 * An event reaching many subscriptions is executed once per caller and document
 * (src/graphql/shared-event-results.ts), counted by `subscription_event_results_total`: callers
 * with their own keys (pass-through) never share, and each gets its data.
 */

const WATCH = `subscription ($t: ID!) {
  threadEvents(threadId: $t) { __typename ... on MessageCreated { message { id text thread { id metadata } } } }
}`;
type Frame = { id?: string; type: string; payload?: { data?: { threadEvents?: { __typename: string } } } };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` subscriptions to WATCH on one graphql-ws connection with `authorization`. */
async function watchOverSocket(url: string, authorization: string, threadId: string, count: number) {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization } }));
  for (let index = 0; index < count; index++) {
    ws.send(
      JSON.stringify({ id: `s${index}`, type: 'subscribe', payload: { query: WATCH, variables: { t: threadId } } }),
    );
  }
  return { ws, frames };
}

it('one execution per caller and document for an event six subscriptions of two callers receive', async () => {
  const upstream = await startTestUpstream();
  // Pass-through: each caller's own key goes upstream, so each read shows whose it is.
  const gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
  const served = await serveGateway(gateway);
  const alice = 'Bearer sk-alice-key-0001';
  const bob = 'Bearer sk-bob-key-0002';
  const sockets: WebSocket[] = [];
  try {
    const created = await postOperation(
      served.url,
      'mutation { createThread(input: { metadata: { topic: "shared" } }) { id } }',
      {},
      { authorization: alice },
    );
    const threadId = created.data?.createThread?.id as string;
    const asAlice = await watchOverSocket(served.url, alice, threadId, 3);
    const asBob = await watchOverSocket(served.url, bob, threadId, 2);
    sockets.push(asAlice.ws, asBob.ws);
    // And one more of Alice's over SSE: the same caller and document on another transport.
    const sse = await postSubscription(served.url, WATCH, { t: threadId }, { authorization: alice });
    const overSse = readSse(sse, (message) => message.event === 'next');
    await pause(300);

    const counted = async () => {
      const text = await (await fetch(served.url.replace('/graphql', '/metrics'))).text();
      const count = (outcome: string) =>
        Number(new RegExp(`subscription_event_results_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { executed: count('executed'), shared: count('shared') };
    };
    const results = await counted();

    await postOperation(
      served.url,
      'mutation ($t: ID!) { createMessage(threadId: $t, input: { role: USER, content: "hi all" }) { id } }',
      { t: threadId },
      { authorization: alice },
    );
    const received = () =>
      [...asAlice.frames, ...asBob.frames].filter((frame) => frame.payload?.data?.threadEvents?.__typename);
    for (let waited = 0; received().length < 5 && waited < 5_000; waited += 20) await pause(20);
    const [sseEvent] = await overSse;
    asAlice.ws.close();
    asBob.ws.close();

    const payloads = [...received().map((frame) => frame.payload), sseEvent?.data];
    expect(payloads).toHaveLength(6);
    for (const payload of payloads) {
      expect(payload).toEqual({
        data: {
          threadEvents: {
            __typename: 'MessageCreated',
            message: {
              id: expect.any(String),
              text: 'hi all',
              thread: { id: threadId, metadata: { topic: 'shared' } },
            },
          },
        },
      });
    }
    // Four subscriptions of Alice's, two of Bob's: one execution for each caller, the others shared.
    const after = await counted();
    expect({ executed: after.executed - results.executed, shared: after.shared - results.shared }).toEqual({
      executed: 2,
      shared: 4,
    });
  } finally {
    for (const ws of sockets) ws.terminate();
    await served.close();
    await gateway.close();
    await upstream.close();
  }
});
