import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import { StartEchoRunDocument, WatchRunDocument } from '../helpers/documents.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

/**
 * A WebSocket operation gets its results straight from execution (src/http/direct-results.ts), not
 * through an event stream: what a client reads must be, message for message, what the same
 * operation gives over SSE, refusals and errors included.
 */

type Frame = { id?: string; type: string; payload?: unknown };

/** Every frame of one operation over a fresh graphql-transport-ws connection, until it ends. */
async function overWebSocket(
  url: string,
  payload: { query: string; variables?: Record<string, unknown> },
  init: Record<string, unknown> = {},
): Promise<Frame[]> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', () => resolve());
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: init })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: 'op', type: 'subscribe', payload }));
        return;
      }
      frames.push(frame);
      if (frame.type === 'complete' || frame.type === 'error') ws.close();
    });
  });
  return frames;
}

/** The same operation over SSE, as the frames a WebSocket client would get. */
async function overSse(
  url: string,
  payload: { query: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<Frame[]> {
  const response = await postSubscription(url, payload.query, payload.variables, headers);
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const answer = (await response.json()) as { errors: unknown[] };
    return [{ id: 'op', type: 'error', payload: answer.errors }];
  }
  const messages = await readSse(response);
  return messages.map((message) =>
    message.event === 'next' ? { id: 'op', type: 'next', payload: message.data } : { id: 'op', type: 'complete' },
  );
}

describe('WebSocket results are the SSE results', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  let threadId: string;
  let runId: string;
  beforeAll(async () => {
    gateway = testGateway({ GATEWAY_TOKENS: 'tok-a' });
    served = await serveGateway(gateway);
    const auth = { authorization: 'Bearer tok-a' };
    const thread = await postOperation(
      served.url,
      'mutation { createThread(input: { messages: [{ role: USER, content: "hello there" }] }) { id } }',
      {},
      auth,
    );
    threadId = thread.data?.createThread?.id as string;
    const run = await postOperation(served.url, print(StartEchoRunDocument), { threadId }, auth);
    runId = run.data?.createRun?.runId as string;
    // The run to its end, so that both transports replay the same whole log.
    const watched = await overSse(served.url, { query: print(WatchRunDocument), variables: { threadId, runId } }, auth);
    expect(watched.at(-1)?.type).toBe('complete');
  });
  afterAll(async () => {
    await served.close();
    await gateway.close();
  });

  const token = { authorization: 'Bearer tok-a' };

  it('a run’s events: the same messages, in the same order', async () => {
    const payload = { query: print(WatchRunDocument), variables: { threadId, runId } };
    const viaSocket = await overWebSocket(served.url, payload, token);
    const viaSse = await overSse(served.url, payload, token);
    expect(viaSocket.filter((frame) => frame.type === 'next').length).toBeGreaterThan(3);
    expect(viaSocket).toEqual(viaSse);
  });

  it('an error in execution (a malformed cursor): the same coded error, no server-only extensions', async () => {
    const payload = { query: print(WatchRunDocument), variables: { threadId, runId, after: 'not-a-cursor' } };
    const viaSocket = await overWebSocket(served.url, payload, token);
    expect(viaSocket).toEqual(await overSse(served.url, payload, token));
    const text = JSON.stringify(viaSocket);
    expect(text).toContain('BAD_USER_INPUT');
    expect(text).not.toContain('"http"');
  });

  it('a query and a refused document: the same as over HTTP; a wrong token never gets a connection', async () => {
    const query = { query: 'query ($id: ID!) { thread(id: $id) { id } }', variables: { id: threadId } };
    const queried = await overWebSocket(served.url, query, token);
    expect(queried).toEqual([
      { id: 'op', type: 'next', payload: { data: { thread: { id: threadId } } } },
      { id: 'op', type: 'complete' },
    ]);
    const invalid = { query: '{ thread(id: "x") { nope } }' };
    expect(await overWebSocket(served.url, invalid, token)).toEqual(await overSse(served.url, invalid, token));
    // Over HTTP a wrong token is UNAUTHENTICATED; over WebSocket the connection is closed at its
    // init (4403), before any operation: no socket is kept for a caller without a gateway token.
    expect(JSON.stringify(await overSse(served.url, query, { authorization: 'Bearer wrong' }))).toContain(
      'UNAUTHENTICATED',
    );
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      ws.on('open', () =>
        ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer wrong' } })),
      );
      ws.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(4403);
  });
});
