import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createGateway, type GatewayOptions } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';

/**
 * Builds our gateway from the environment the bench runner gives (no per-request log line unless
 * LOG_LEVEL says so), serves it on a free port and reports the URL to the runner. The server
 * settings are the ones asked of `main.ts`: a listen backlog for 1,000 clients connecting at once
 * (BENCH_BACKLOG, 4096; Node's default 511 overflows), keep-alive past a load balancer's idle timeout.
 */
export function serveGatewayForBench(options: GatewayOptions = {}): void {
  const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }), options);
  const server = createServer(gateway.requestListener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const backlog = Number(process.env.BENCH_BACKLOG ?? 4096);
  server.listen({ port: 0, host: '127.0.0.1', backlog }, () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
  });
  answerHeapQueries();
  // Lets `bench/cpu.ts` stop it cleanly, so a --cpu-prof profile is written, and report how long
  // the event loop was late while it served (BENCH_LOOP_DELAY=1).
  const loopDelay = process.env.BENCH_LOOP_DELAY === '1' ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  loopDelay?.enable();
  const profile = profileAfterWarmUp(process.env.BENCH_PROFILE);
  process.once('SIGINT', async () => {
    if (loopDelay) {
      const ms = (p: number) => (loopDelay.percentile(p) / 1e6).toFixed(1);
      console.log(`event-loop delay ms: p50 ${ms(50)}, p99 ${ms(99)}, max ${ms(100)}`);
    }
    await profile();
    process.exit(0);
  });
}

/** The runner asks, between rounds, for the heap in use after a full GC: flat memory means flat here. */
export function answerHeapQueries(): void {
  process.on('message', (message) => {
    if (message !== 'heap') return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20) });
  });
}

/**
 * BENCH_PROFILE=file.cpuprofile: a CPU profile of the measured window only (from `bench/cpu.ts`'s
 * 'reset', after its warm-up, to SIGINT), without start-up and module loading in it.
 */
function profileAfterWarmUp(file: string | undefined): () => Promise<void> {
  if (!file) return async () => undefined;
  const session = new Session();
  session.connect();
  const started = new Promise<void>((resolve) =>
    process.on('message', async (message) => {
      if (message !== 'reset') return;
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      resolve();
    }),
  );
  return async () => {
    await started;
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
  };
}
