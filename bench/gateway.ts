import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

// Our gateway exactly as `npm start` builds it (server key, real SDK and HTTP to the upstream),
// on a free port that it reports to the bench runner.
const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }));
const server = createServer(gateway.yoga);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
});
process.once('SIGINT', () => process.exit(0));
