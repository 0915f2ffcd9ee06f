import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { firstDeltaBurst, firstDeltaSteady } from './live-first-delta.ts';
import { type Child, createThread, graphql, percentile, runThroughGateway, startGateway } from './live-kit.ts';
import { runFanOut } from './live-run-fan-out.ts';

/**
 * Live subscriptions, measured (`npm run bench:live`; docs/performance.md):
 * - added time to first delta against a Threads server whose model writes a token every 40 ms, read
 *   straight from the server's stream and through the gateway (createRun, then `runEvents` over
 *   SSE): steady (20 and 100 runs in flight, 100-token answers) and as a burst (100 runs at one
 *   instant);
 * - run fan-out: one run watched by 1,000 subscribers, each delta timed from the model's token;
 * - local mode: 100 concurrent echo runs' first deltas and their logs' memory;
 * - fan-out: one thread watched by 10,000 subscribers (200 WebSockets × 50), one change: the time
 *   from the mutation to each subscriber's event, p50/p99, and the heap per idle subscription.
 */

/** 10,000 idle subscriptions, then one change delivered to all of them (fan-out at 10,000). */
async function idleAndFanOut(gateway: Child, subscribers: number, perSocket: number) {
  const threadId = await createThread(gateway.url);
  const before = await gateway.heap();
  const clients = Array.from({ length: subscribers / perSocket }, () =>
    createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false }),
  );
  const arrivals: number[] = [];
  let sent = 0;
  for (const client of clients) {
    for (let index = 0; index < perSocket; index++) {
      client.subscribe(
        { query: 'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }', variables: { t: threadId } },
        { next: () => arrivals.push(performance.now()), error: () => undefined, complete: () => undefined },
      );
    }
  }
  // Every subscription reads the thread once when it opens: wait until the gateway is idle again.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const idle = await gateway.heap();
  await gateway.profile('start');
  sent = performance.now();
  await graphql(gateway.url, 'mutation ($t: ID!) { updateThread(id: $t, input: { metadata: { k: "v" } }) { id } }', {
    t: threadId,
  });
  const answered = performance.now();
  const deadline = Date.now() + 20_000;
  while (arrivals.length < subscribers && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await gateway.profile('stop');
  const delays = arrivals.map((at) => at - sent);
  for (const client of clients) await client.dispose();
  return {
    subscribers,
    delivered: arrivals.length,
    bytesPerIdleSubscription: Math.round((idle - before) / subscribers),
    fanOutP50Ms: percentile(delays, 50),
    fanOutP99Ms: percentile(delays, 99),
    mutationMs: answered - sent,
  };
}

/** 100 concurrent echo runs, each watched from createRun's answer: time to its first delta. */
async function firstDeltas(gateway: Child, runs: number) {
  const text = 'x'.repeat(2_000);
  const threads = await Promise.all(Array.from({ length: runs }, () => createThread(gateway.url, text)));
  const before = await gateway.heap();
  const results = await Promise.all(
    threads.map(async (threadId) => {
      return runThroughGateway(gateway.url, threadId, 'echo');
    }),
  );
  const after = await gateway.heap();
  return {
    runs,
    createP50Ms: percentile(
      results.map((r) => r.createMs),
      50,
    ),
    firstDeltaP50Ms: percentile(
      results.map((r) => r.firstDeltaMs),
      50,
    ),
    firstDeltaP99Ms: percentile(
      results.map((r) => r.firstDeltaMs),
      99,
    ),
    bytesPerFinishedRunLog: Math.round((after - before) / runs),
  };
}

// LIVE_RUN_SUBSCRIBERS and LIVE_RUN_TOKENS size the run fan-out row (1,000 and 10).
// LIVE_ROWS picks rows (comma-separated: steady, burst, runFanOut, deltas, fanOut); all by default.
const rows = new Set((process.env.LIVE_ROWS ?? 'steady,burst,runFanOut,deltas,fanOut').split(','));
const results: Record<string, unknown> = {};
const runs = Number(process.env.LIVE_RUNS ?? 100);
if (rows.has('steady')) {
  // LIVE_STEADY_RUNS: runs in flight, one row each (20 and LIVE_RUNS).
  const tokens = Number(process.env.LIVE_STEADY_TOKENS ?? 100);
  for (const inFlight of (process.env.LIVE_STEADY_RUNS ?? `20,${runs}`).split(',').map(Number)) {
    results[`firstDeltaSteady${inFlight}`] = await firstDeltaSteady(
      inFlight,
      tokens,
      Number(process.env.LIVE_STEADY_MS ?? 20_000),
    );
  }
}
if (rows.has('burst')) results.firstDeltaBurst = await firstDeltaBurst(runs);
if (rows.has('runFanOut')) {
  const subscribers = Number(process.env.LIVE_RUN_SUBSCRIBERS ?? 1_000);
  results.runFanOut = await runFanOut(subscribers, 50, Number(process.env.LIVE_RUN_TOKENS ?? 10));
}
if (rows.has('deltas') || rows.has('fanOut')) {
  const gateway = await startGateway();
  try {
    if (rows.has('deltas')) results.deltas = await firstDeltas(gateway, runs);
    if (rows.has('fanOut')) {
      results.fanOut = await idleAndFanOut(gateway, Number(process.env.LIVE_SUBSCRIBERS ?? 10_000), 50);
    }
  } finally {
    gateway.stop();
  }
}
const round = (value: number) => Math.round(value * 10) / 10;
console.log(JSON.stringify(results, (_key, value) => (typeof value === 'number' ? round(value) : value), 2));
