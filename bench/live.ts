import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type Child, createThread, graphql, percentile, startGateway, startUpstream, wireHeaders } from './live-kit.ts';
import { runFanOut } from './live-run-fan-out.ts';

/**
 * Live subscriptions, measured (`npm run bench:live`; docs/performance.md):
 * - time to first delta: 100 concurrent echo runs, each watched over SSE from `createRun`'s answer,
 *   against the same runs' first event read straight from the local backend's own stream is not
 *   separable in local mode, so it is reported as the gateway's added time over the run's own;
 * - fan-out: one thread watched by 1,000 subscribers (20 WebSockets × 50), one change: the time
 *   from the mutation's answer to each subscriber's event, p50/p99;
 * - memory: heap after a full GC in the gateway process, per idle subscription (10,000 of them on
 *   200 WebSockets) and per finished run's log.
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

/**
 * A run created through the gateway, then watched from `createRun`'s answer over SSE until it ends:
 * when it was created and when its first delta came, each from the client's first request.
 */
async function runThroughGateway(url: string, threadId: string, model: string) {
  const started = performance.now();
  const run = await graphql(
    url,
    'mutation ($t: ID!, $m: String) { createRun(threadId: $t, input: { model: $m }) { runId } }',
    {
      t: threadId,
      m: model,
    },
  );
  const createMs = performance.now() - started;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      query: 'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename } }',
      variables: { t: threadId, r: run.data.createRun?.runId },
    }),
  });
  return { createMs, firstDeltaMs: await firstMarker(response, 'MessageTextDelta', started) };
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

/** Time from `started` to the first chunk of `response` that holds `marker` (then the rest is read). */
async function firstMarker(response: Response, marker: string, started: number): Promise<number> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let first = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return first;
    text += decoder.decode(value, { stream: true });
    if (!first && text.includes(marker)) first = performance.now() - started;
  }
}

/**
 * Added time to first delta: `runs` concurrent runs against a Threads server whose model writes a
 * token every LIVE_TOKEN_MS, read straight from the server's own stream (`stream: true`), then
 * through the gateway (createRun, then `runEvents` over SSE), each from the client's first request.
 */
async function firstDeltaBesideDirect(runs: number) {
  const upstream = await startUpstream();
  const upstreamUrl = upstream.url;
  const gateway = await startGateway({ OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: 'sk-bench' });
  try {
    const newThread = async () => {
      const response = await fetch(`${upstreamUrl}/threads`, {
        method: 'POST',
        headers: wireHeaders,
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
      });
      return ((await response.json()) as { id: string }).id;
    };
    const direct = async (threadId: string) => {
      const started = performance.now();
      const response = await fetch(`${upstreamUrl}/threads/${threadId}/runs`, {
        method: 'POST',
        headers: wireHeaders,
        body: JSON.stringify({ model: 'bench-model', stream: true }),
      });
      return firstMarker(response, 'thread.message.delta', started);
    };
    const viaGateway = async (threadId: string) =>
      (await runThroughGateway(gateway.url, threadId, 'bench-model')).firstDeltaMs;
    const round = async (read: (threadId: string) => Promise<number>) => {
      const threads = await Promise.all(Array.from({ length: runs }, newThread));
      return Promise.all(threads.map(read));
    };
    // Twice each, interleaved: the second of each pair is reported (connections warm on both sides).
    await round(direct);
    await round(viaGateway);
    const directMs = await round(direct);
    await gateway.profile('start');
    const gatewayMs = await round(viaGateway);
    await gateway.profile('stop');
    return {
      runs,
      tokenMs: Number(process.env.LIVE_TOKEN_MS ?? 40),
      directP50Ms: percentile(directMs, 50),
      directP99Ms: percentile(directMs, 99),
      gatewayP50Ms: percentile(gatewayMs, 50),
      gatewayP99Ms: percentile(gatewayMs, 99),
      addedP50Ms: percentile(gatewayMs, 50) - percentile(directMs, 50),
      addedP99Ms: percentile(gatewayMs, 99) - percentile(directMs, 99),
    };
  } finally {
    gateway.stop();
    upstream.process.kill('SIGKILL');
  }
}

// LIVE_ROWS picks rows (comma-separated: beside, runFanOut, deltas, fanOut); all by default.
const rows = new Set((process.env.LIVE_ROWS ?? 'beside,runFanOut,deltas,fanOut').split(','));
const results: Record<string, unknown> = {};
if (rows.has('beside'))
  results.firstDeltaBesideDirect = await firstDeltaBesideDirect(Number(process.env.LIVE_RUNS ?? 100));
if (rows.has('runFanOut')) results.runFanOut = await runFanOut(Number(process.env.LIVE_RUN_SUBSCRIBERS ?? 1_000), 50);
if (rows.has('deltas') || rows.has('fanOut')) {
  const gateway = await startGateway();
  try {
    if (rows.has('deltas')) results.deltas = await firstDeltas(gateway, Number(process.env.LIVE_RUNS ?? 100));
    if (rows.has('fanOut')) {
      results.fanOut = await idleAndFanOut(gateway, Number(process.env.LIVE_SUBSCRIBERS ?? 10_000), 50);
    }
  } finally {
    gateway.stop();
  }
}
const round = (value: number) => Math.round(value * 10) / 10;
console.log(JSON.stringify(results, (_key, value) => (typeof value === 'number' ? round(value) : value), 2));
