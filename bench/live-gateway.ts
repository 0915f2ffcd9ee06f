import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';

/**
 * The gateway for `bench/live.ts`: local mode, WebSocket upgrades on, and the heap after a full GC
 * on request (run with --expose-gc), in its own process so the clients' objects are not counted.
 */
const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: 'warn', LOCAL_BACKEND_STORE: 'memory' }));
const server = createServer(gateway.requestListener);
server.on('upgrade', gateway.upgradeListener);
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
});
process.on('message', (message) => {
  if (message !== 'heap') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ heapBytes: process.memoryUsage().heapUsed });
});
