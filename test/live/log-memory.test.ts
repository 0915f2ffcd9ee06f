import { afterEach, expect, it } from 'vitest';
import type { RunEvent } from '../../src/live/events.ts';
import { MemoryRunEventLog } from '../../src/live/memory-run-event-log.ts';
import { startEchoRun } from '../helpers/echo-run.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

/**
 * The in-memory run event logs are bounded in bytes (RUN_EVENTS_MAX_BYTES), whatever each run's
 * events carry (a status event holds the whole run, instructions and tools included): past the
 * bound, the logs written to least lately go first.
 */
const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

const KB = 1024;
/** A status event of about `kb` KB as JSON (its run's instructions). */
const big = (runId: string, kb: number): RunEvent =>
  ({
    type: 'RunStatusChanged',
    run: { id: runId, status: 'in_progress', instructions: 'i'.repeat(kb * KB) },
  }) as unknown as RunEvent;

it('holds the logs to their bytes: the least lately written go first, the one written now last of all', async () => {
  const log = new MemoryRunEventLog({ ttlMs: 60_000, maxEvents: 100, maxBytes: 100 * KB });
  open.push(() => log.close());
  const epochs = new Map<string, string | null>();
  for (let index = 0; index < 10; index++) {
    const runId = `run_${index}`;
    epochs.set(runId, await log.append(runId, 0, [big(runId, 30)], null));
    // run_0 is written to again each time: always the latest but one, it stays.
    if (index > 0) await log.append('run_0', index, [big('run_0', 0)], epochs.get('run_0') ?? null);
  }
  const kept: string[] = [];
  for (let index = 0; index < 10; index++) if (await log.read(`run_${index}`, -1, 10)) kept.push(`run_${index}`);
  expect(kept).toEqual(['run_0', 'run_8', 'run_9']);

  // One log past the whole bound is dropped itself, and only it: its producer's next append is
  // refused, and the others are still there.
  const epoch = await log.append('run_huge', 0, [big('run_huge', 150)], null);
  expect(await log.read('run_huge', -1, 10)).toBeNull();
  expect(await log.append('run_huge', 1, [big('run_huge', 1)], epoch)).toBeNull();
  for (const runId of kept) expect(await log.read(runId, -1, 10)).not.toBeNull();
});

it('a gateway with a small bound still streams a running run whole to its subscriber', async () => {
  const gateway = testGateway({ RUN_EVENTS_MAX_BYTES: String(1024 * KB) });
  const server = await serveGateway(gateway);
  open.push(
    () => gateway.close(),
    () => server.close(),
  );
  // Finished runs with big instructions fill the bound first.
  const text = 'The quick brown fox jumps over the lazy dog';
  for (let index = 0; index < 8; index++) await startEchoRun(server.url, `filler ${index} ${'w '.repeat(5_000)}`);
  const { threadId, runId } = await startEchoRun(server.url, text);
  const response = await postSubscription(
    server.url,
    'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename ... on MessageTextDelta { text } ... on RunStatusChanged { run { status } } } }',
    { t: threadId, r: runId },
  );
  const messages = await readSse(response, (message) => message.event === 'complete');
  const events = messages
    .filter((message) => message.event === 'next')
    .map((message) => (message.data as { data: { runEvents: { __typename: string; text?: string } } }).data.runEvents);
  expect(
    events
      .filter((event) => event.__typename === 'MessageTextDelta')
      .map((event) => event.text)
      .join(''),
  ).toBe(text);
  expect(events.at(-1)).toEqual({ __typename: 'RunStatusChanged', run: { status: 'COMPLETED' } });
});

it('a log past twice RUN_EVENTS_MAX keeps nothing more but how the run ended', async () => {
  const log = new MemoryRunEventLog({ ttlMs: 60_000, maxEvents: 100 });
  open.push(() => log.close());
  const status = (status: string): RunEvent =>
    ({ type: 'RunStatusChanged', run: { id: 'run_long', status } }) as unknown as RunEvent;
  const delta: RunEvent = { type: 'MessageTextDelta', messageId: 'msg_1', index: 0, text: 'x' } as RunEvent;
  let epoch: string | null = null;
  let length = 0;
  const append = async (events: RunEvent[]) => {
    epoch = await log.append('run_long', length, events, epoch);
    length = (await log.next('run_long'))?.next ?? 0;
  };
  await append(Array.from({ length: 150 }, () => delta));
  expect(length).toBe(100);
  // Whole events, up to twice the bound.
  await append(Array.from({ length: 150 }, (_, index) => status(index % 2 ? 'queued' : 'in_progress')));
  expect(length).toBe(200);
  // Past it, only what ends a subscription: a tool call's wait, the final status.
  await append([status('in_progress'), delta, status('requires_action'), status('in_progress'), status('completed')]);
  const tail = (await log.read('run_long', 199, 10))?.events.map(
    ({ event }) => (event as { run: { status: string } }).run.status,
  );
  expect(tail).toEqual(['requires_action', 'completed']);
});
