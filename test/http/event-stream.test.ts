import { afterEach, expect, it } from 'vitest';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';

/** Subscriptions over SSE, on the wire: the frames, the keep-alive comments, the end. */

const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** Reads a body's text until `until` holds of all of it, or the body ends. */
async function readUntil(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

it('an idle subscription gets a comment line every WEBSOCKET_PING_S; events and the end are whole frames', async () => {
  const gateway = testGateway({ WEBSOCKET_PING_S: '1', MAX_SUBSCRIPTIONS_PER_CALLER: '2' });
  const server = await serveGateway(gateway);
  open.push(
    () => gateway.close(),
    () => server.close(),
  );
  const created = await postOperation(server.url, 'mutation { createThread(input: {}) { id } }');
  const threadId = created.data?.createThread?.id as string;
  const subscription = await postSubscription(
    server.url,
    'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename ... on ThreadDeleted { id } } }',
    { t: threadId },
  );
  expect(subscription.status).toBe(200);
  expect(subscription.headers.get('content-type')).toBe('text/event-stream');
  expect(subscription.headers.get('cache-control')).toBe('no-cache, no-transform');
  expect(subscription.headers.get('x-accel-buffering')).toBe('no');

  const started = Date.now();
  const idle = await readUntil(subscription, (text) => text.split(':\n\n').length - 1 >= 3);
  // One comment at once, then one a second: three within a little over two seconds.
  expect(idle).toBe(':\n\n:\n\n:\n\n');
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_800);
  expect(Date.now() - started).toBeLessThan(4_000);

  const watching = await postSubscription(
    server.url,
    'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename ... on ThreadDeleted { id } } }',
    { t: threadId },
  );
  const text = readUntil(watching, () => false);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await postOperation(server.url, 'mutation ($t: ID!) { deleteThread(id: $t) { id } }', { t: threadId });
  // The event as one `next` frame of exactly its result, then `complete`: nothing else but comments.
  const frames = (await text).split('\n\n').filter((frame) => frame !== ':');
  expect(frames.join('\n\n')).toBe(
    `event: next\ndata: ${JSON.stringify({ data: { threadEvents: { __typename: 'ThreadDeleted', id: threadId } } })}\n\nevent: complete\ndata:\n\n`,
  );
  // Both slots are free again (the client that left, the subscription that completed): two more open.
  const other = (await postOperation(server.url, 'mutation { createThread(input: {}) { id } }')).data?.createThread?.id;
  const again = async () => {
    const response = await postSubscription(
      server.url,
      'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }',
      {
        t: other,
      },
    );
    const first = await readUntil(response, (text) => text.length > 0);
    return first;
  };
  await expect.poll(async () => [await again(), await again()]).toEqual([':\n\n', ':\n\n']);
});
