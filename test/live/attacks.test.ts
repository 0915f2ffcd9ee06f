import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { startTestUpstream } from '../helpers/test-upstream.ts';

/** Attacks on subscriptions from outside, with the docs in hand (docs/live.md). */

const THREAD_EVENTS = 'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }';
type Frame = { id?: string; type: string; payload?: unknown };

const graphql = postOperation;

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
    // The client completed them: no `error` for them afterwards (the protocol). (One that the
    // gateway itself finished before the client's `complete` arrived may have said so: allowed.)
    expect(frames.filter((frame) => frame.id?.startsWith('a') && frame.type === 'error')).toEqual([]);
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

/** An SSE subscription over a raw socket that is never read: the gateway's writes back up. */
function neverRead(url: string, query: string, variables: unknown): net.Socket {
  const { host, port, hostname } = new URL(url);
  const body = JSON.stringify({ query, variables });
  const socket = net.connect(Number(port), hostname, () =>
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  socket.pause();
  socket.on('error', () => undefined);
  return socket;
}

describe('a client that never reads', () => {
  it('backs up only its own socket, and frees its slot when it goes away', async () => {
    const gateway = testGateway({ MAX_SUBSCRIPTIONS_PER_CALLER: '2' });
    const served = await serveGateway(gateway);
    try {
      // A reply of 240 KB in 120 deltas: its log, replayed, is far more than a socket holds.
      const text = `${'x'.repeat(2000)} `.repeat(120);
      const thread = await graphql(
        served.url,
        'mutation ($x: JSON!) { createThread(input: { messages: [{ role: USER, content: $x }] }) { id } }',
        { x: text },
      );
      const threadId = thread.data?.createThread?.id as string;
      const run = await graphql(
        served.url,
        'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "echo" }) { runId } }',
        { t: threadId },
      );
      const variables = { t: threadId, r: run.data?.createRun?.runId };
      const query = `subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) {
        __typename ... on MessageTextDelta { text } ... on MessageCompleted { message { text } } } }`;
      const stuck = [neverRead(served.url, query, variables), neverRead(served.url, query, variables)];
      await pause(1_500);
      for (const socket of stuck) socket.destroy();
      await pause(500);
      const { ws, frames } = await connect(served.url);
      for (const id of ['r1', 'r2']) ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      await pause(1_500);
      ws.close();
      const last = (id: string) => frames.filter((frame) => frame.id === id).at(-1);
      expect(last('r1')?.type).toBe('complete');
      expect(last('r2')?.type).toBe('complete');
      expect(JSON.stringify(frames)).not.toContain('SUBSCRIPTION_LIMIT');
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('pass-through: one tenant subscribing to another’s run', () => {
  it('is NOT_FOUND over SSE and WebSocket, even at the instant the owner subscribes too', async () => {
    const alice = 'Bearer sk-alice-key-0001';
    // Bob's key sees nothing of Alice's (each key its own tenant upstream).
    const upstream = await startTestUpstream((request) =>
      request.headers.authorization === alice ? { forward: true } : { status: 404, body: { error: { message: 'No' } } },
    );
    const gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    const served = await serveGateway(gateway);
    try {
      const asAlice = { authorization: alice };
      const thread = await graphql(served.url, 'mutation { createThread(input: {}) { id } }', {}, asAlice);
      const threadId = thread.data?.createThread?.id as string;
      const run = await graphql(
        served.url,
        'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "echo" }) { runId } }',
        { t: threadId },
        asAlice,
      );
      const variables = { t: threadId, r: run.data?.createRun?.runId };
      const query = 'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename } }';
      const sse = (authorization: string) =>
        postSubscription(served.url, query, variables, { authorization }).then((response) => response.text());
      const bob = 'Bearer sk-bob-key-0002';
      const [own, other] = await Promise.all([sse(alice), sse(bob)]);
      expect(own).toContain('RunStatusChanged');
      expect(other).toContain('NOT_FOUND');
      expect(other).not.toContain('RunStatusChanged');
      const socket = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const frames: Frame[] = [];
      socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: bob } }));
      socket.send(JSON.stringify({ id: 'b', type: 'subscribe', payload: { query, variables } }));
      const thread2 = 'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }';
      socket.send(JSON.stringify({ id: 'c', type: 'subscribe', payload: { query: thread2, variables } }));
      await pause(500);
      socket.close();
      expect(JSON.stringify(frames)).not.toContain('RunStatusChanged');
      expect(frames.filter((frame) => frame.type === 'next').map((frame) => JSON.stringify(frame.payload))).toEqual([
        expect.stringContaining('NOT_FOUND'),
        expect.stringContaining('NOT_FOUND'),
      ]);
    } finally {
      await served.close();
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('shutdown', () => {
  it('does not wait on a WebSocket client that never answers the close', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    const { host, port, hostname } = new URL(served.url);
    const raw = net.connect(Number(port), hostname, () =>
      raw.write(
        `GET /graphql HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n',
      ),
    );
    raw.on('error', () => undefined);
    try {
      await pause(300);
      raw.pause();
      const connections = () =>
        new Promise<number>((resolve, reject) =>
          served.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
        );
      expect(await connections()).toBe(1);
      gateway.startDraining();
      // SIGTERM's exit waits for every connection to end (or SHUTDOWN_DRAIN_MS, 10 s by default).
      await pause(2_000);
      expect(await connections()).toBe(0);
    } finally {
      raw.destroy();
      await served.close();
      await gateway.close();
    }
  });
});

describe('a WebSocket client that sends pings and never reads', () => {
  it('is not answered past the send buffer: the gateway does not hold its pongs', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const { ws, frames } = await connect(served.url);
      const socket = (ws as unknown as { _socket: net.Socket })._socket;
      socket.pause();
      // Each ping echoes its payload back: 60 MB of pongs if every one were kept for the client.
      const payload = 'p'.repeat(1_000_000);
      for (let index = 0; index < 60; index++) {
        ws.send(JSON.stringify({ type: 'ping', payload }));
        if (index % 10 === 9) await pause(50);
      }
      await pause(1_500);
      socket.resume();
      await pause(1_500);
      ws.close();
      const pongs = frames.filter((frame) => frame.type === 'pong').length;
      // What the kernel's buffers took before the gateway saw the client was behind, no more.
      expect(pongs).toBeGreaterThan(0);
      expect(pongs).toBeLessThan(20);
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('a WebSocket client that sends and never reads', () => {
  it('is dropped once far behind, instead of having its refusals kept in memory', async () => {
    const gateway = testGateway({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '1' });
    const served = await serveGateway(gateway);
    try {
      const { ws, frames } = await connect(served.url);
      let closed = false;
      ws.on('close', () => {
        closed = true;
      });
      const socket = (ws as unknown as { _socket: net.Socket })._socket;
      const thread = await graphql(served.url, 'mutation { createThread(input: {}) { id } }');
      ws.send(subscribe('held', thread.data?.createThread?.id as string));
      await pause(200);
      socket.pause();
      // Each tiny subscribe past the connection's limit is answered with a larger `error` frame.
      const sent = 100_000;
      for (let index = 0; index < sent; index++) {
        ws.send(JSON.stringify({ id: `s${index}`, type: 'subscribe', payload: {} }));
        if (index % 5_000 === 4_999) await pause(20);
      }
      await pause(1_000);
      socket.resume();
      await pause(1_500);
      const droppedByGateway = closed;
      ws.terminate();
      expect(droppedByGateway).toBe(true);
      expect(frames.filter((frame) => frame.type === 'error').length).toBeLessThan(sent / 2);
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('WebSocket with gateway tokens', () => {
  it('closes a connection that brings no token or a wrong one (4403); one with a token is served', async () => {
    const upstream = await startTestUpstream();
    const gateway = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      GATEWAY_TOKENS: 'tok-live',
    });
    const served = await serveGateway(gateway);
    try {
      const init = (payload: unknown) =>
        new Promise<{ code?: number; acked: boolean }>((resolve) => {
          const ws = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
          ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload })));
          ws.on('message', (data) => {
            if (JSON.parse(String(data)).type === 'connection_ack') {
              ws.close();
              resolve({ acked: true });
            }
          });
          ws.on('close', (code) => resolve({ code, acked: false }));
        });
      expect(await init({})).toEqual({ code: 4403, acked: false });
      expect(await init({ authorization: 'Bearer tok-wrong' })).toEqual({ code: 4403, acked: false });
      expect(await init({ authorization: 'Bearer tok-live' })).toEqual({ acked: true });
    } finally {
      await served.close();
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('a token or Host that no HTTP request could carry', () => {
  it('gets the protocol’s error with a code (BAD_REQUEST) over WebSocket, and the socket stays usable', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    let ws: WebSocket | undefined;
    try {
      const thread = await graphql(served.url, 'mutation { createThread(input: {}) { id } }');
      const threadId = thread.data?.createThread?.id as string;
      const socket = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      ws = socket;
      const frames: Frame[] = [];
      socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer tok\nen' } }));
      socket.send(subscribe('bad', threadId));
      for (let waited = 0; !frames.some((frame) => frame.id === 'bad') && waited < 3_000; waited += 20) await pause(20);
      const answer = frames.find((frame) => frame.id === 'bad');
      expect(answer?.type).toBe('error');
      const errors = (answer?.payload ?? []) as Array<{ extensions?: { code?: string } }>;
      expect(errors[0]?.extensions?.code).toBe('BAD_REQUEST');
      expect(socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws?.terminate();
      await served.close();
      await gateway.close();
    }
  });
});

describe('an SSE answer', () => {
  it('says no proxy may buffer or transform it, with standard headers only', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const thread = await graphql(served.url, 'mutation { createThread(input: {}) { id } }');
      const controller = new AbortController();
      const response = await fetch(served.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: THREAD_EVENTS, variables: { t: thread.data?.createThread?.id } }),
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      expect(response.headers.get('cache-control')).toContain('no-transform');
      expect(response.headers.get('content-encoding')).toBeNull();
      controller.abort();
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('a subscription asked for without an event stream in Accept', () => {
  it('is refused 406 with a code, and holds no slot of its caller', async () => {
    const gateway = testGateway({ MAX_SUBSCRIPTIONS_PER_CALLER: '2' });
    const served = await serveGateway(gateway);
    try {
      const thread = await graphql(served.url, 'mutation { createThread(input: {}) { id } }');
      const variables = { t: thread.data?.createThread?.id };
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await fetch(served.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: THREAD_EVENTS, variables }),
        });
        expect(response.status).toBe(406);
        const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
        expect(body.errors[0]?.extensions.code).toBe('NOT_ACCEPTABLE');
      }
      await pause(50);
      // Both of the caller's slots are free: two subscriptions open.
      const controllers = [new AbortController(), new AbortController()];
      const opened = await Promise.all(
        controllers.map(async (controller) => {
          const response = await fetch(served.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
            body: JSON.stringify({ query: THREAD_EVENTS, variables }),
            signal: controller.signal,
          });
          // What the stream says in its first 300 ms: a refusal would come at once.
          const reader = (response.body as ReadableStream<Uint8Array>).getReader();
          let text = '';
          const until = Date.now() + 300;
          while (Date.now() < until) {
            const chunk = await Promise.race([reader.read(), pause(until - Date.now()).then(() => undefined)]);
            if (!chunk || chunk.done) break;
            text += new TextDecoder().decode(chunk.value);
          }
          return text;
        }),
      );
      for (const text of opened) expect(text).not.toContain('errors');
      for (const controller of controllers) controller.abort();
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});
