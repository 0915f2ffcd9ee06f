import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type GatewayOptions } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

/**
 * Builds our gateway from the environment the bench runner gives (no per-request log line unless
 * LOG_LEVEL says so), serves it on a free port and reports the URL to the runner.
 */
export function serveGatewayForBench(options: GatewayOptions = {}): void {
  const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }), options);
  const server = createServer(gateway.yoga);
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
  });
  // Lets `bench/cpu.ts` stop it cleanly, so a --cpu-prof profile is written.
  process.once('SIGINT', () => process.exit(0));
}
