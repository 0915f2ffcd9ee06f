import { performance } from 'node:perf_hooks';
import { firstMarker, percentile, runThroughGateway, startGateway, startUpstream, wireHeaders } from './live-kit.ts';

/** What one row measured: each system's first deltas (ms) and the gateway's CPU per run read through it. */
interface Measured {
  directMs: number[];
  gatewayMs: number[];
  gatewayCpuMsPerRun: number;
}

/** How one system reads a run on a thread: the time from its first request to the run's first delta. */
type FirstDelta = (threadId: string) => Promise<number>;

/**
 * Both systems' readers against one Threads server: straight from the server's own stream
 * (`stream: true`), and through the gateway (createRun, then `runEvents` over SSE). Each reads the
 * run to its end.
 */
async function systems(tokens?: number) {
  const upstream = await startUpstream({ tokens });
  const gateway = await startGateway({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-bench' });
  const newThread = async () => {
    const response = await fetch(`${upstream.url}/threads`, {
      method: 'POST',
      headers: wireHeaders,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
    });
    return ((await response.json()) as { id: string }).id;
  };
  const direct: FirstDelta = async (threadId) => {
    const started = performance.now();
    const response = await fetch(`${upstream.url}/threads/${threadId}/runs`, {
      method: 'POST',
      headers: wireHeaders,
      body: JSON.stringify({ model: 'bench-model', stream: true }),
    });
    return firstMarker(response, 'thread.message.delta', started);
  };
  let gatewayReads = 0;
  const viaGateway: FirstDelta = async (threadId) => {
    gatewayReads++;
    return (await runThroughGateway(gateway.url, threadId, 'bench-model')).firstDeltaMs;
  };
  const stop = () => {
    gateway.stop();
    upstream.process.kill('SIGKILL');
  };
  /**
   * Both systems measured by `measure`, twice each and interleaved: the second of each pair is
   * reported (connections warm on both sides), the gateway's with its CPU profile taken and the
   * CPU time its process spent per run read through it.
   */
  const sideBySide = async (measure: (read: FirstDelta) => Promise<number[]>) => {
    await measure(direct);
    await measure(viaGateway);
    const directMs = await measure(direct);
    await gateway.profile('start');
    const [cpuBefore, readsBefore] = [await gateway.cpuMicros(), gatewayReads];
    const gatewayMs = await measure(viaGateway);
    const gatewayCpuMsPerRun = ((await gateway.cpuMicros()) - cpuBefore) / 1000 / (gatewayReads - readsBefore);
    await gateway.profile('stop');
    return { directMs, gatewayMs, gatewayCpuMsPerRun };
  };
  return { newThread, sideBySide, stop };
}

function compared(runs: number, { directMs, gatewayMs, gatewayCpuMsPerRun }: Measured) {
  return {
    gatewayCpuMsPerRun,
    runs,
    tokenMs: Number(process.env.LIVE_TOKEN_MS ?? 40),
    directP50Ms: percentile(directMs, 50),
    directP99Ms: percentile(directMs, 99),
    gatewayP50Ms: percentile(gatewayMs, 50),
    gatewayP99Ms: percentile(gatewayMs, 99),
    addedP50Ms: percentile(gatewayMs, 50) - percentile(directMs, 50),
    addedP99Ms: percentile(gatewayMs, 99) - percentile(directMs, 99),
  };
}

/**
 * A burst: `runs` runs started at one instant, each read from its first request to its first
 * delta, straight from the server and through the gateway. Every system queues behind the others'
 * work on the same cores: this row measures the machine's backlog as much as the gateway.
 */
export async function firstDeltaBurst(runs: number) {
  const { newThread, sideBySide, stop } = await systems();
  try {
    const measured = await sideBySide(async (read) => {
      const threads = await Promise.all(Array.from({ length: runs }, newThread));
      return Promise.all(threads.map(read));
    });
    return compared(runs, measured);
  } finally {
    stop();
  }
}

/**
 * Steady: `runs` runs in flight at all times, each answer `tokens` tokens long, for `windowMs`.
 * Each of `runs` readers starts a run on its own thread, reads it to its end and starts the next;
 * they start spread over one answer's length, so runs begin at an even pace, not in a burst. The
 * first delta of every run that starts after one answer's length (the warm-up) is counted.
 */
export async function firstDeltaSteady(runs: number, tokens: number, windowMs: number) {
  const { newThread, sideBySide, stop } = await systems(tokens);
  const answerMs = tokens * Number(process.env.LIVE_TOKEN_MS ?? 40);
  try {
    const threads = await Promise.all(Array.from({ length: runs }, newThread));
    const measured = await sideBySide(async (read) => {
      const started = performance.now();
      const counted: number[] = [];
      await Promise.all(
        threads.map(async (threadId, index) => {
          await new Promise((resolve) => setTimeout(resolve, (index * answerMs) / runs));
          while (performance.now() - started < windowMs) {
            const begun = performance.now() - started;
            const ms = await read(threadId);
            if (begun >= answerMs) counted.push(ms);
          }
        }),
      );
      return counted;
    });
    return { ...compared(runs, measured), tokens, counted: measured.gatewayMs.length };
  } finally {
    stop();
  }
}
