import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

/** Attacks on subscriptions from outside, with the docs in hand (docs/live.md). */

const THREAD_EVENTS = 'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }';
type Frame = { id?: string; type: string; payload?: unknown };

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, Record<string, string>> };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw graphql-transport-ws connection, acknowledged, with every frame it received. */
async function connect(url: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await pause(50);
  return { ws, frames };
}

const subscribe = (id: string, threadId: string) =>
  JSON.stringify({ id, type: 'subscribe', payload: { query: THREAD_EVENTS, variables: { t: threadId } } });

describe('the per-caller limit does not leak', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  beforeEach(async () => {
    gateway = testGateway({ MAX_SUBSCRIPTIONS_PER_CALLER: '2' });
    served = await serveGateway(gateway);
  });
  afterEach(async () => {
    await served.close();
    await gateway.close();
  });

  /** Both of the caller's two slots open, and both subscriptions get the next change. */
  async function bothSlotsServe(threadId: string): Promise<void> {
    const { ws, frames } = await connect(served.url);
    ws.send(subscribe('x1', threadId));
    ws.send(subscribe('x2', threadId));
    await pause(300);
    await graphql(served.url, 'mutation ($t: ID!) { updateThread(id: $t, input: { metadata: { a: "b" } }) { id } }', {
      t: threadId,
    });
    await pause(300);
    ws.close();
    const next = (id: string) => frames.find((frame) => frame.id === id && frame.type === 'next');
    expect(next('x1')?.payload).toEqual({ data: { threadEvents: { __typename: 'ThreadUpdated' } } });
    expect(next('x2')?.payload).toEqual({ data: { threadEvents: { __typename: 'ThreadUpdated' } } });
  }

  it('when a WebSocket client completes its operations as soon as it sent them', async () => {
    const threadId = (await graphql(served.url, 'mutation { createThread(input: {}) { id } }')).data?.createThread
      ?.id as string;
    const { ws, frames } = await connect(served.url);
    for (let index = 0; index < 20; index++) {
      ws.send(subscribe(`a${index}`, threadId));
      ws.send(JSON.stringify({ id: `a${index}`, type: 'complete' }));
    }
    await pause(300);
    ws.close();
    // The client completed them: the server says nothing more about them (the protocol).
    expect(frames.filter((frame) => frame.id?.startsWith('a'))).toEqual([]);
    await bothSlotsServe(threadId);
  });

  it('when SSE clients go away before the answer starts', async () => {
    const threadId = (await graphql(served.url, 'mutation { createThread(input: {}) { id } }')).data?.createThread
      ?.id as string;
    for (let index = 0; index < 20; index++) {
      const controller = new AbortController();
      const request = fetch(served.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: THREAD_EVENTS, variables: { t: threadId } }),
        signal: controller.signal,
      }).catch(() => undefined);
      setTimeout(() => controller.abort(), index % 5);
      await request;
    }
    await pause(300);
    await bothSlotsServe(threadId);
  });
});
