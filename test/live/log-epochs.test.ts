import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { RedisChannels } from '../../src/features/redis/redis-channels.ts';
import { RedisConnection } from '../../src/features/redis/redis-connection.ts';
import type { RunEvent } from '../../src/live/events.ts';
import { MemoryRunEventLog } from '../../src/live/memory-run-event-log.ts';
import { RedisRunEventLog } from '../../src/live/redis-run-event-log.ts';
import type { RunEventLog } from '../../src/live/run-event-log.ts';
import { startEchoRun, WEATHER_TOOLS } from '../helpers/echo-run.ts';
import { silentLogger, testGateway } from '../helpers/gateway.ts';
import { itWithRedis, REDIS_URL, testPrefix } from '../helpers/redis.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse, type SseMessage } from '../helpers/sse.ts';

/**
 * A run's log made again (in Redis, after it expired) is another log: a cursor of the earlier one
 * is refused, never read as a place in the new one, where it would skip what the new log holds.
 */

const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

const EVENTS =
  'subscription ($t: ID!, $r: ID!, $a: String) { runEvents(threadId: $t, runId: $r, after: $a) { __typename ... on RunStatusChanged { cursor run { status } } ... on MessageCompleted { cursor message { text } } ... on MessageTextDelta { cursor } } }';

type Event = { __typename: string; cursor: string; run?: { status: string }; message?: { text: string } };
const eventsOf = (messages: SseMessage[]) =>
  messages
    .map((message) => (message.data as { data?: { runEvents?: Event } } | null)?.data?.runEvents)
    .filter((event): event is Event => event !== undefined);
const codesOf = (messages: SseMessage[]) =>
  messages.flatMap(
    (message) =>
      (message.data as { errors?: Array<{ extensions?: { code?: string } }> } | null)?.errors?.map(
        (error) => error.extensions?.code,
      ) ?? [],
  );

itWithRedis('a cursor of a Redis log that expired is refused by the log made again', async () => {
  const { prefix, cleanup } = testPrefix();
  const gateway = testGateway({ REDIS_URL, REDIS_KEY_PREFIX: prefix });
  const server = await serveGateway(gateway);
  open.push(
    cleanup,
    () => gateway.close(),
    () => server.close(),
  );
  const { threadId, runId } = await startEchoRun(server.url, 'an answer of several words');
  const firstMessages = await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId }));
  const first = eventsOf(firstMessages);
  expect(first.at(-1)?.run?.status, JSON.stringify(firstMessages)).toBe('COMPLETED');

  // The log expires (its key is gone, as after RUN_EVENTS_TTL_S); a later subscriber has it made again.
  const redis = new Redis(REDIS_URL);
  open.push(async () => redis.disconnect());
  expect(await redis.del(`${prefix}live:run:${runId}`)).toBe(1);
  const again = eventsOf(await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId })));
  expect(again.at(-1)?.run?.status).toBe('COMPLETED');
  expect(again.length).toBeGreaterThan(1);

  // The first log's first cursor has a place (0) the new log also has: it is still refused.
  const stale = await readSse(
    await postSubscription(server.url, EVENTS, { t: threadId, r: runId, a: first[0]?.cursor }),
  );
  expect(eventsOf(stale)).toEqual([]);
  expect(codesOf(stale)).toEqual(['BAD_USER_INPUT']);
  // The new log's own cursors resume in it.
  const resumed = eventsOf(
    await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId, a: again[0]?.cursor })),
  );
  expect(resumed).toEqual(again.slice(1));
  // A place this log never reached: a cursor it never handed out, and said so.
  const forged = Buffer.from(
    Buffer.from(again[0]?.cursor ?? '', 'base64url')
      .toString()
      .replace(/:\d+$/, ':999'),
  ).toString('base64url');
  const ahead = await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId, a: forged }));
  expect(codesOf(ahead)).toEqual(['BAD_USER_INPUT']);
  expect(JSON.stringify(ahead)).toContain('has not handed out this cursor');
});

/** A producer that lost its run (its lease, then the log expired) never writes into the log made again. */
async function staleAppendRefused(log: RunEventLog, remake: () => Promise<void>) {
  const status = (status: string): RunEvent =>
    ({ type: 'RunStatusChanged', run: { id: 'run_e', status } }) as unknown as RunEvent;
  const first = await log.append('run_e', 0, [status('queued'), status('in_progress')], null);
  expect(first).toEqual(expect.any(String));
  await remake();
  const second = await log.append('run_e', 0, [status('queued'), status('in_progress')], null);
  expect(second).toEqual(expect.any(String));
  expect(second).not.toBe(first);
  // The old producer's next place (2) is free in the new log too: it is still refused.
  expect(await log.append('run_e', 2, [status('completed')], first)).toBeNull();
  expect(await log.append('run_e', 2, [status('completed')], second)).toBe(second);
  expect(
    (await log.read('run_e', -1, 10))?.events.map(({ event }) => (event as { run: { status: string } }).run.status),
  ).toEqual(['queued', 'in_progress', 'completed']);
  expect(await log.next('run_e')).toEqual({ next: 3, epoch: second });
}

it('memory: an append names its log; one for the log that expired is refused', async () => {
  const log = new MemoryRunEventLog({ ttlMs: 50, maxEvents: 100 });
  open.push(() => log.close());
  await staleAppendRefused(log, () => new Promise((resolve) => setTimeout(resolve, 80)));
});

itWithRedis('Redis: an append names its log; one for the log that expired is refused', async () => {
  const { prefix, cleanup } = testPrefix();
  const redis = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000, logger: silentLogger });
  const channels = new RedisChannels(redis);
  const log = new RedisRunEventLog(redis, channels, { ttlMs: 60_000, maxEvents: 100 });
  const raw = new Redis(REDIS_URL);
  open.push(
    cleanup,
    async () => redis.close(),
    () => log.close(),
    async () => raw.disconnect(),
  );
  await staleAppendRefused(log, async () => {
    await raw.del(`${prefix}live:run:run_e`);
  });
});

itWithRedis(
  'a follower whose log expires and is made again under it reads the new log from its start',
  async () => {
    const { prefix, cleanup } = testPrefix();
    const gateway = testGateway({ REDIS_URL, REDIS_KEY_PREFIX: prefix, RUN_LEASE_S: '2' });
    const server = await serveGateway(gateway);
    const raw = new Redis(REDIS_URL);
    open.push(
      cleanup,
      () => gateway.close(),
      () => server.close(),
      async () => raw.disconnect(),
    );
    const op = (query: string, variables: Record<string, unknown> = {}) => postOperation(server.url, query, variables);
    const { threadId, runId } = await startEchoRun(server.url, '/call get_weather {}', WEATHER_TOOLS);
    const first = eventsOf(await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId })));
    expect(first.at(-1)?.run?.status).toBe('REQUIRES_ACTION');
    const calls = await op('query ($t: ID!, $r: ID!) { run(threadId: $t, id: $r) { requiredToolCalls { id } } }', {
      t: threadId,
      r: runId,
    });
    const callId = ((calls.data?.run?.requiredToolCalls ?? []) as unknown as Array<{ id: string }>)[0]?.id;

    // A follower waits on the tool outputs; meanwhile the log expires (its key is gone).
    const following = postSubscription(server.url, EVENTS, { t: threadId, r: runId, a: first.at(-1)?.cursor }).then(
      (response) => readSse(response),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await raw.del(`${prefix}live:run:${runId}`)).toBe(1);
    const submitted = await op(
      'mutation ($t: ID!, $r: ID!, $o: [ToolOutputInput!]!) { submitToolOutputs(threadId: $t, runId: $r, toolOutputs: $o) { status } }',
      { t: threadId, r: runId, o: [{ toolCallId: callId, output: 'sunny' }] },
    );
    expect(submitted.errors).toBeUndefined();
    // The run is logged again, from what it is now: the follower gets that log whole, the answer included.
    const events = eventsOf(await following);
    expect(events.at(-1)?.run?.status).toBe('COMPLETED');
    expect(events.find((event) => event.__typename === 'MessageCompleted')?.message?.text).toContain('sunny');
    const again = eventsOf(await readSse(await postSubscription(server.url, EVENTS, { t: threadId, r: runId })));
    // From the new log's start: every event it holds, none skipped for the old cursor's place.
    expect(events.map((event) => event.cursor)).toEqual(again.map((event) => event.cursor));
  },
  20_000,
);
