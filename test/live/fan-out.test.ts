import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEvent } from '../../src/live/events.ts';
import { MemoryRunEventLog } from '../../src/live/memory-run-event-log.ts';
import { chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { startRun } from '../helpers/echo-run.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

/**
 * One run, many subscribers on one instance: they are woken a batch per turn of the event loop (so
 * the first batch's frames go out before the rest are built), read one shared page of the log per
 * event, and each still gets every event once, in order.
 */

const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

const delta = (text: string): RunEvent => ({ type: 'MessageTextDelta', messageId: 'msg_1', index: 0, text });

it('wakes a run’s many waiters a batch per turn, every one of them, an aborted one at once', async () => {
  const log = new MemoryRunEventLog({ ttlMs: 60_000, maxEvents: 1_000 });
  open.push(() => log.close());
  const epoch = await log.append('run_1', 0, [delta('a')], null);
  const woken = new Set<number>();
  const controllers = Array.from({ length: 130 }, () => new AbortController());
  const waits = controllers.map((controller, index) =>
    log.waitFor('run_1', 0, 60_000, controller.signal).then(() => woken.add(index)),
  );
  expect(await log.append('run_1', 1, [delta('b')], epoch)).toBe(epoch);
  // The last waiter leaves before its batch: it is let go at once, not left to its deadline.
  controllers.at(-1)?.abort();
  for (let index = 0; index < 5; index++) await Promise.resolve();
  expect(woken.size).toBeGreaterThan(0);
  expect(woken.size).toBeLessThan(129);
  expect(woken.has(129)).toBe(true);
  await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  expect(woken.size).toBe(130);
});

it('hands the subscribers at one place the same page, and a new one once the log grows', async () => {
  const log = new MemoryRunEventLog({ ttlMs: 60_000, maxEvents: 1_000 });
  open.push(() => log.close());
  const epoch = await log.append('run_1', 0, [delta('a')], null);
  const first = await log.read('run_1', -1, 100);
  expect(await log.read('run_1', -1, 100)).toBe(first);
  expect(first?.events.map((event) => event.seq)).toEqual([0]);
  await log.append('run_1', 1, [delta('b')], epoch);
  const grown = await log.read('run_1', -1, 100);
  expect(grown).not.toBe(first);
  expect(grown?.events.map((event) => event.seq)).toEqual([0, 1]);
  expect((await log.read('run_1', 0, 100))?.events.map((event) => event.seq)).toEqual([1]);
  // A page short of the end is another, and is not kept: only the log's last few events are shared
  // (what one wake adds), so replays from every place of every log cost no memory after them.
  expect((await log.read('run_1', -1, 1))?.events.map((event) => event.seq)).toEqual([0]);
  const events = Array.from({ length: 40 }, (_, index) => delta(`w${index}`));
  await log.append('run_1', 2, events, epoch);
  const middle = await log.read('run_1', 5, 10);
  expect(middle?.events.map((event) => event.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  expect(await log.read('run_1', 5, 10)).not.toBe(middle);
  expect(await log.read('run_1', 40, 100)).toBe(await log.read('run_1', 40, 100));
});

type Frame = {
  id?: string;
  type: string;
  payload?: { data?: { runEvents?: { __typename: string; text?: string; message?: { text: string } } } };
};

it('120 subscribers of a run being written each read its text exactly, every delta once', async () => {
  // A model still writing while the subscribers follow: each token wakes all 120 of them.
  const tokens = Array.from({ length: 40 }, (_, index) => `wörd${index}✓ `);
  const model = await startChatCompletionsServer(() => ({
    kind: 'stream',
    intervalMs: 15,
    chunks: [
      chunk({ role: 'assistant', content: '' }),
      ...tokens.map((content) => chunk({ content })),
      chunk({}, 'stop'),
    ],
  }));
  open.push(() => model.close());
  // More than one caller's default limit (100) of subscriptions.
  const gateway = testGateway({ LOCAL_BACKEND_MODEL_URL: model.url, MAX_SUBSCRIPTIONS_PER_CALLER: '200' });
  const served = await serveGateway(gateway);
  open.push(
    () => gateway.close(),
    () => served.close(),
  );
  const { threadId, runId } = await startRun(served.url, 'hello', { model: 'paced' });
  const query = `subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) {
    __typename ... on MessageTextDelta { text } ... on MessageCompleted { message { text } } } }`;
  const frames = new Map<string, Frame[]>();
  const sockets = await Promise.all(
    [0, 1, 2].map(async (socket) => {
      const ws = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      open.push(async () => ws.close());
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.id) frames.set(frame.id, [...(frames.get(frame.id) ?? []), frame]);
      });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'connection_init' }));
      for (let index = 0; index < 40; index++) {
        const payload = { query, variables: { t: threadId, r: runId } };
        ws.send(JSON.stringify({ id: `s${socket}-${index}`, type: 'subscribe', payload }));
      }
      return ws;
    }),
  );
  const complete = () => [...frames.values()].filter((list) => list.at(-1)?.type === 'complete').length;
  for (let waited = 0; complete() < 120 && waited < 20_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(sockets).toHaveLength(3);
  expect(complete()).toBe(120);
  const expected = tokens.join('');
  for (const list of frames.values()) {
    const events = list.flatMap((frame) => (frame.payload?.data?.runEvents ? [frame.payload.data.runEvents] : []));
    const deltas = events.filter((event) => event.__typename === 'MessageTextDelta').map((event) => event.text);
    expect(deltas.join('')).toBe(expected);
    expect(deltas).toHaveLength(tokens.length);
    expect(events.find((event) => event.__typename === 'MessageCompleted')?.message?.text).toBe(expected);
  }
});
