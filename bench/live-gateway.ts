import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createGateway } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';

/**
 * The gateway for `bench/live.ts`: local mode, WebSocket upgrades on, and the heap after a full GC
 * on request (run with --expose-gc), in its own process so the clients' objects are not counted.
 * `cpu` answers its CPU time so far, `loop` its event loop's delay since the last `loop`; `profile-start` / `profile-stop` (with LIVE_PROFILE=<file>) take a CPU profile of a row's window.
 */
const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: 'warn', LOCAL_BACKEND_STORE: 'memory' }));
const server = createServer(gateway.requestListener);
server.on('upgrade', gateway.upgradeListener);
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
});
const inspector = new Session();
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
process.on('message', (message) => {
  if (message === 'heap') {
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ heapBytes: process.memoryUsage().heapUsed });
  } else if (message === 'loop') {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    process.send?.({
      loop: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
    });
    loopDelay.reset();
  } else if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system });
  } else if (message === 'profile-start') {
    inspector.connect();
    inspector.post('Profiler.enable', () =>
      inspector.post('Profiler.start', () => process.send?.({ profiling: true })),
    );
  } else if (message === 'profile-stop') {
    inspector.post('Profiler.stop', (_error, result) => {
      writeFileSync(process.env.LIVE_PROFILE ?? 'live.cpuprofile', JSON.stringify(result.profile));
      inspector.disconnect();
      process.send?.({ profiling: false });
    });
  }
});
