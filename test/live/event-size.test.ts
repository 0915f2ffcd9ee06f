import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

/**
 * MAX_RESPONSE_BYTES holds for every event of a subscription as for an answer, over SSE and over
 * WebSocket: a small selection whose event would be huge (a new message's thread, its messages'
 * texts under aliases) ends the subscription with RESPONSE_TOO_LARGE, and the gateway serves on.
 */
const LIMIT = 200_000;
const ALIASES = Array.from({ length: 20 }, (_, index) => `t${index}: text`).join(' ');
const HUGE = `subscription ($t: ID!) { threadEvents(threadId: $t) { __typename ... on MessageCreated { message { thread { messages(first: 20) { nodes { ${ALIASES} } } } } } } }`;

let gateway: Gateway;
let served: Awaited<ReturnType<typeof serveGateway>>;
beforeEach(async () => {
  gateway = testGateway({ MAX_RESPONSE_BYTES: String(LIMIT) });
  served = await serveGateway(gateway);
});
afterEach(async () => {
  await served.close();
  await gateway.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function threadWith(text: string): Promise<string> {
  const created = await postOperation(
    served.url,
    'mutation ($c: JSON!) { createThread(input: { messages: [{ role: USER, content: $c }] }) { id } }',
    { c: text },
  );
  return created.data?.createThread?.id as string;
}

const addMessage = (threadId: string, text: string) =>
  postOperation(
    served.url,
    'mutation ($t: ID!, $c: JSON!) { createMessage(threadId: $t, input: { role: USER, content: $c }) { id } }',
    {
      t: threadId,
      c: text,
    },
  );

it('over SSE: an event within the limit arrives; one past it ends the subscription, coded', async () => {
  const threadId = await threadWith('short');
  const response = await postSubscription(served.url, HUGE, { t: threadId });
  const read = readSse(response, (message) => message.event === 'complete');
  await pause(200);
  await addMessage(threadId, 'also short');
  // 20 aliases × 3 messages × 5 KB: 300 KB, past the 200 KB limit.
  await addMessage(threadId, 'x'.repeat(5_000));
  await addMessage(threadId, 'x'.repeat(5_000));
  const messages = await read;
  const results = messages.filter((message) => message.event === 'next').map((message) => message.data);
  expect(results[0]).toMatchObject({ data: { threadEvents: { __typename: 'MessageCreated' } } });
  const codes = results.flatMap(
    (result) => (result as { errors?: Array<{ extensions?: { code?: string } }> }).errors ?? [],
  );
  expect(codes.map((error) => error.extensions?.code)).toEqual(['RESPONSE_TOO_LARGE']);
  expect(messages.at(-1)?.event).toBe('complete');
  expect((await fetch(served.url.replace(/\/graphql$/, '/health'))).status).toBe(200);
});

it('over WebSocket: the same, as an error-coded next and a complete', async () => {
  const threadId = await threadWith('x'.repeat(5_000));
  const ws = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Array<{ id?: string; type: string; payload?: { errors?: Array<{ extensions?: { code?: string } }> } }> =
    [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await pause(50);
  ws.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: HUGE, variables: { t: threadId } } }));
  await pause(200);
  await addMessage(threadId, 'x'.repeat(8_000));
  for (let wait = 0; !frames.some((frame) => frame.type === 'complete') && wait < 100; wait++) await pause(20);
  ws.close();
  const mine = frames.filter((frame) => frame.id === 's');
  expect(mine.map((frame) => frame.type)).toEqual(['next', 'complete']);
  expect(mine[0]?.payload?.errors?.map((error) => error.extensions?.code)).toEqual(['RESPONSE_TOO_LARGE']);
});
