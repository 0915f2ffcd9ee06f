import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/app.ts';
import { chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { startRun } from '../helpers/echo-run.ts';
import { testGateway } from '../helpers/gateway.ts';
import { hasRedis, itWhen, twoGatewaysOnRedis } from '../helpers/redis.ts';
import { postOperation, serveGateway } from '../helpers/serve.ts';
import { readSse, type SseMessage } from '../helpers/sse.ts';

const RUN_EVENTS = `subscription ($threadId: ID!, $runId: ID!, $after: String) {
  runEvents(threadId: $threadId, runId: $runId, after: $after) {
    __typename
    ... on RunStatusChanged { cursor run { status } }
    ... on MessageTextDelta { cursor messageId index text }
    ... on MessageCompleted { cursor message { id text } }
  }
}`;

type Payload = {
  data?: { runEvents?: Record<string, unknown>; threadEvents?: Record<string, unknown> } | null;
  errors?: Array<{ extensions?: Record<string, unknown> }>;
};

const graphql = postOperation;

/** A `runEvents` subscription over SSE (POST, Accept: text/event-stream), read to its end. */
async function overSse(url: string, variables: Record<string, unknown>): Promise<Payload[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: RUN_EVENTS, variables }),
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(response.headers.get('x-accel-buffering')).toBe('no');
  const messages: SseMessage[] = await readSse(response);
  expect(messages.at(-1)?.event).toBe('complete');
  return messages.filter((message) => message.event === 'next').map((message) => message.data as Payload);
}

function wsUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}

/** A `runEvents` subscription over graphql-ws, with the real graphql-ws client. */
function overWebSocket(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  params = {},
): Promise<Payload[]> {
  const client = createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    connectionParams: params,
    retryAttempts: 0,
  });
  const results: Payload[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (value) => results.push(value as Payload),
        error: (error) => {
          void client.dispose();
          reject(error);
        },
        complete: () => {
          void client.dispose();
          resolve(results);
        },
      },
    );
  });
}

const events = (payloads: Payload[]) => payloads.map((payload) => payload.data?.runEvents);

describe('runEvents', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    gateway = testGateway({ MAX_SUBSCRIPTIONS_PER_CALLER: '3' });
    served = await serveGateway(gateway);
  });
  afterAll(async () => {
    await served.close();
    await gateway.close();
  });

  it('streams a run over SSE and over graphql-ws alike, ending at its final status, its text exact', async () => {
    const text = 'Grüße, 世界 👋🏽 — '.repeat(200);
    const { threadId, runId } = await startRun(served.url, text);
    const [sse, ws] = await Promise.all([
      overSse(served.url, { threadId, runId }),
      overWebSocket(served.url, RUN_EVENTS, { threadId, runId }),
    ]);
    const seen = events(sse);
    expect(events(ws)).toEqual(seen);
    expect(seen.at(-1)).toMatchObject({ __typename: 'RunStatusChanged', run: { status: 'COMPLETED' } });
    const statuses = seen
      .filter((event) => event?.__typename === 'RunStatusChanged')
      .map((event) => (event?.run as { status: string } | undefined)?.status);
    expect(statuses[0]).toBe('QUEUED');
    expect(new Set(statuses).size).toBe(statuses.length);
    const completed = seen.filter((event) => event?.__typename === 'MessageCompleted');
    expect(completed).toHaveLength(1);
    const message = completed[0]?.message as { id: string; text: string } | undefined;
    expect(message?.text).toBe(text);
    // Written as it came: the message's deltas, joined in order, are its text byte for byte.
    const deltas = seen.filter((event) => event?.__typename === 'MessageTextDelta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((event) => event?.messageId === message?.id && event?.index === 0)).toBe(true);
    expect(deltas.map((event) => event?.text).join('')).toBe(text);
    // Cursors are distinct and in order of the log.
    expect(new Set(seen.map((event) => event?.cursor)).size).toBe(seen.length);
  });

  it('replays the whole log to a late subscriber, and from a cursor on exactly what followed it', async () => {
    const { threadId, runId } = await startRun(served.url, 'late');
    const first = events(await overSse(served.url, { threadId, runId }));
    const late = events(await overSse(served.url, { threadId, runId }));
    expect(late).toEqual(first);
    for (let index = 0; index < first.length - 1; index++) {
      const after = first[index]?.cursor;
      const rest = events(await overSse(served.url, { threadId, runId, after }));
      expect(rest).toEqual(first.slice(index + 1));
    }
  });

  it('refuses a malformed cursor, another run’s cursor and a run the caller cannot see, with codes', async () => {
    const one = await startRun(served.url, 'one');
    const two = await startRun(served.url, 'two');
    const oneEvents = events(await overSse(served.url, one));
    const refusal = async (variables: Record<string, unknown>) => {
      const answer = await graphql(served.url, RUN_EVENTS, variables, { accept: 'application/graphql-response+json' });
      return answer.errors?.map((error) => [error.extensions?.code, error.extensions?.argument]);
    };
    expect(await refusal({ ...two, after: 'nope' })).toEqual([['BAD_USER_INPUT', 'after']]);
    expect(await refusal({ ...two, after: oneEvents[0]?.cursor })).toEqual([['BAD_USER_INPUT', 'after']]);
    expect(await refusal({ threadId: one.threadId, runId: 'run_000000000000000000000000' })).toEqual([
      ['NOT_FOUND', undefined],
    ]);
  });

  it('holds each caller to MAX_SUBSCRIPTIONS_PER_CALLER across transports, and frees a slot when a client leaves', async () => {
    const { threadId } = await startRun(served.url, 'limits');
    const query = `subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }`;
    const open: AbortController[] = [];
    for (let index = 0; index < 3; index++) {
      const controller = new AbortController();
      const response = await fetch(served.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query, variables: { t: threadId } }),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      open.push(controller);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await overWebSocket(served.url, query, { t: threadId }).catch((errors: unknown) => errors);
    expect(JSON.stringify(refused)).toContain('SUBSCRIPTION_LIMIT');
    open.pop()?.abort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const client = createClient({ url: wsUrl(served.url), webSocketImpl: WebSocket, retryAttempts: 0 });
    const first = new Promise<Payload>((resolve, reject) =>
      client.subscribe(
        { query, variables: { t: threadId } },
        { next: (v) => resolve(v as Payload), error: reject, complete: () => undefined },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await graphql(served.url, 'mutation ($t: ID!) { updateThread(id: $t, input: { metadata: { a: "b" } }) { id } }', {
      t: threadId,
    });
    expect(await first).toEqual({ data: { threadEvents: { __typename: 'ThreadUpdated' } } });
    await client.dispose();
    for (const controller of open) controller.abort();
  });
});

describe('a subscription’s reads', () => {
  it('are made afresh for each event: the final status’s run.messages hold the reply', async () => {
    // A model that writes for about a second, so the first events are delivered while it runs.
    const model = await startChatCompletionsServer(() => ({
      kind: 'stream',
      intervalMs: 30,
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        ...'slowly written'.split('').map((c) => chunk({ content: c })),
        chunk({}, 'stop'),
      ],
    }));
    const gateway = testGateway({ LOCAL_BACKEND_MODEL_URL: model.url });
    const served = await serveGateway(gateway);
    try {
      const { threadId, runId } = await startRun(served.url, 'anything', { model: 'paced' });
      const response = await fetch(served.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query: `subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) {
            ... on RunStatusChanged { run { status messages { text } } } } }`,
          variables: { t: threadId, r: runId },
        }),
      });
      const runs = (await readSse(response))
        .filter((message) => message.event === 'next')
        .map((message) => message.data as { data: { runEvents: { run?: { status: string; messages: unknown[] } } } })
        .flatMap((payload) => (payload.data.runEvents.run ? [payload.data.runEvents.run] : []));
      expect(runs[0]).toEqual({ status: 'QUEUED', messages: [] });
      expect(runs.at(-1)).toEqual({ status: 'COMPLETED', messages: [{ text: 'slowly written' }] });
    } finally {
      await served.close();
      await gateway.close();
      await model.close();
    }
  });
});

describe('shutdown', () => {
  it('ends every subscription with SHUTTING_DOWN and the cursor to resume from', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const { threadId, runId } = await startRun(served.url, '/call lookup {"q": 1}', {
        tools: [{ type: 'function', function: { name: 'lookup' } }],
      });
      const first = events(await overSse(served.url, { threadId, runId }));
      expect(first.at(-1)).toMatchObject({ run: { status: 'REQUIRES_ACTION' } });
      const after = first.at(-1)?.cursor as string;
      // Waits for what follows the tool call; the instance stops meanwhile.
      const waiting = overWebSocket(served.url, RUN_EVENTS, { threadId, runId, after });
      await new Promise((resolve) => setTimeout(resolve, 300));
      gateway.startDraining();
      const [ended] = await waiting;
      expect(ended?.errors?.[0]?.extensions).toEqual({ code: 'SHUTTING_DOWN', cursor: after });
      // Its log is in this instance's memory: no other instance could resume from that cursor.
      expect((ended?.errors?.[0] as { message?: string } | undefined)?.message).toContain('without `after`');
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('threadEvents', () => {
  it('tells a subscriber every change made through the gateway, and completes when the thread is deleted', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const { threadId } = await startRun(served.url, 'hello');
      const query = `subscription ($t: ID!) { threadEvents(threadId: $t) {
        __typename
        ... on MessageCreated { message { text } }
        ... on MessageUpdated { message { metadata } }
        ... on MessageDeleted { id }
        ... on ThreadUpdated { thread { metadata } }
        ... on ThreadDeleted { id }
      } }`;
      const received = overWebSocket(served.url, query, { t: threadId });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = await graphql(
        served.url,
        'mutation ($t: ID!) { createMessage(threadId: $t, input: { role: USER, content: "more" }) { id } }',
        { t: threadId },
      );
      const messageId = created.data?.createMessage?.id as string;
      await graphql(
        served.url,
        'mutation ($t: ID!, $m: ID!) { updateMessage(threadId: $t, id: $m, metadata: { k: "v" }) { id } }',
        { t: threadId, m: messageId },
      );
      await graphql(served.url, 'mutation ($t: ID!, $m: ID!) { deleteMessage(threadId: $t, id: $m) { deleted } }', {
        t: threadId,
        m: messageId,
      });
      await graphql(served.url, 'mutation ($t: ID!) { updateThread(id: $t, input: { metadata: { x: "y" } }) { id } }', {
        t: threadId,
      });
      await graphql(served.url, 'mutation ($t: ID!) { deleteThread(id: $t) { deleted } }', { t: threadId });
      const names = (await received).map((payload) => payload.data?.threadEvents?.__typename);
      expect(names.at(-1)).toBe('ThreadDeleted');
      const own = names.filter((name) => name !== 'RunStatusChanged');
      expect(own.slice(-5)).toEqual([
        'MessageCreated',
        'MessageUpdated',
        'MessageDeleted',
        'ThreadUpdated',
        'ThreadDeleted',
      ]);
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('WebSocket upgrades', () => {
  it('refuses a cross-site page, another path and a foreign Host; serves the same origin', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const attempt = (path: string, headers: Record<string, string>) =>
        new Promise<number>((resolve) => {
          const socket = new WebSocket(wsUrl(served.url).replace('/graphql', path), 'graphql-transport-ws', {
            headers,
          });
          socket.on('open', () => {
            socket.close();
            resolve(101);
          });
          socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.on('error', () => undefined);
        });
      const origin = new URL(served.url).origin;
      expect(await attempt('/graphql', { origin: 'https://evil.example' })).toBe(403);
      expect(await attempt('/graphql/', { origin })).toBe(404);
      expect(await attempt('/graphql', { host: 'evil.example' })).toBe(421);
      expect(await attempt('/graphql', { origin })).toBe(101);
    } finally {
      await served.close();
      await gateway.close();
    }
  });
});

describe('across instances', () => {
  itWhen(hasRedis, 'needs Redis on 127.0.0.1:6379')(
    'a run created on one gateway is watched on the other, and a thread change on one reaches the other',
    async () => {
      const pair = await twoGatewaysOnRedis();
      const a = await serveGateway(pair.a);
      const b = await serveGateway(pair.b);
      try {
        const { threadId, runId } = await startRun(a.url, 'from a to b');
        const seen = events(await overSse(b.url, { threadId, runId }));
        expect(seen.at(-1)).toMatchObject({ run: { status: 'COMPLETED' } });
        expect(events(await overSse(a.url, { threadId, runId }))).toEqual(seen);
        const query = `subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }`;
        const received = overWebSocket(b.url, query, { t: threadId });
        await new Promise((resolve) => setTimeout(resolve, 300));
        await graphql(a.url, 'mutation ($t: ID!) { deleteThread(id: $t) { deleted } }', { t: threadId });
        expect((await received).map((payload) => payload.data?.threadEvents?.__typename)).toEqual(['ThreadDeleted']);
      } finally {
        await a.close();
        await b.close();
        await pair.close();
      }
    },
  );
});
