import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** What the `bench:live` rows share: the gateway and upstream processes, and small client helpers. */
export interface Child {
  url: string;
  heap(): Promise<number>;
  /** With LIVE_PROFILE=<file>: starts, then stops and writes, a CPU profile of the gateway (else nothing). */
  profile(step: 'start' | 'stop'): Promise<void>;
  /** The CPU time (user and system, µs) the gateway's process has spent so far. */
  cpuMicros(): Promise<number>;
  /** The gateway's event loop delay (ms) since the last call. */
  loopDelay(): Promise<{ p50: number; p99: number; max: number }>;
  stop(): void;
}

export async function startGateway(env: Record<string, string> = {}): Promise<Child> {
  const child = fork(new URL('./live-gateway.ts', import.meta.url), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      MAX_SUBSCRIPTIONS_PER_CALLER: '20000',
      RUN_EVENTS_TTL_S: '600',
      ...env,
    },
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve((m as { url: string }).url)));
  return {
    url,
    heap: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { heapBytes: number }).heapBytes));
        child.send('heap');
      }),
    profile: (step) =>
      process.env.LIVE_PROFILE
        ? new Promise((resolve) => {
            child.once('message', () => resolve());
            child.send(`profile-${step}`);
          })
        : Promise.resolve(),
    cpuMicros: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { cpuMicros: number }).cpuMicros));
        child.send('cpu');
      }),
    loopDelay: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { loop: { p50: number; p99: number; max: number } }).loop));
        child.send('loop');
      }),
    stop: () => child.kill('SIGKILL'),
  };
}

export async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: Record<string, Record<string, string>> };
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

export async function createThread(url: string, text = 'hello'): Promise<string> {
  const answer = await graphql(
    url,
    'mutation ($t: JSON!) { createThread(input: { messages: [{ role: USER, content: $t }] }) { id } }',
    { t: text },
  );
  return answer.data.createThread?.id ?? '';
}

/**
 * The local backend served over HTTP in its own process (bench/live-upstream.ts), its runs answered
 * by a streamed Chat Completions model: its own (`tokens` tokens per answer, 15 by default), or
 * `modelUrl`'s.
 */
export async function startUpstream(
  options: { modelUrl?: string; tokens?: number } = {},
): Promise<{ url: string; process: ChildProcess }> {
  const child = fork(new URL('./live-upstream.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ...(options.modelUrl ? { LIVE_MODEL_URL: options.modelUrl } : {}),
      ...(options.tokens ? { LIVE_TOKENS: String(options.tokens) } : {}),
    },
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve((m as { url: string }).url)));
  return { url, process: child };
}

/** Headers of a direct call to the upstream's Threads API. */
export const wireHeaders = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-bench',
  'openai-beta': 'assistants=v2',
};
/**
 * A run created through the gateway, then watched from `createRun`'s answer over SSE until it ends:
 * when it was created and when its first delta came, each from the client's first request.
 */
export async function runThroughGateway(url: string, threadId: string, model: string) {
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

/** Time from `started` to the first chunk of `response` that holds `marker` (then the rest is read). */
export async function firstMarker(response: Response, marker: string, started: number): Promise<number> {
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
