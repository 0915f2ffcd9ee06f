import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

// The only file that listens on a port; everything else is built by createGateway().
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const gateway = createGateway(config);
const { logger } = gateway;

switch (config.upstream.kind) {
  case 'local':
    logger.info('No OPENAI_API_KEY or OPENAI_BASE_URL: using the embedded local backend (in memory, no network).');
    break;
  case 'server-key':
    logger.info('Calling the Threads API with the server key', { upstream: config.upstream.baseURL });
    break;
  case 'pass-through':
    logger.info("Pass-through: each caller's bearer key goes upstream", { upstream: config.upstream.baseURL });
    break;
}

const server = createServer(gateway.yoga);
server.listen(config.port, config.host, () => {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.info(`GraphiQL at http://${host}:${address.port}/graphql`);
  void gateway.checkUpstream().then((verdict) => {
    if (verdict.ok) logger.info('upstream ready', { upstream: gateway.upstreamBaseURL, detail: verdict.detail });
    else {
      logger.error('UPSTREAM NOT USABLE: /ready answers 503 until this is fixed', {
        upstream: gateway.upstreamBaseURL,
        reason: verdict.reason,
        detail: verdict.detail,
      });
    }
  });
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down: draining in-flight requests', { signal, drainMs: config.shutdownDrainMs });
  const forced = setTimeout(() => {
    logger.warn('drain time over: closing remaining connections');
    server.closeAllConnections();
  }, config.shutdownDrainMs);
  forced.unref();
  // Keep-alive sockets become idle as their last response finishes: close each as soon as it does.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  sweep.unref();
  server.close(() => {
    clearTimeout(forced);
    clearInterval(sweep);
    void gateway.close().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  });
  server.closeIdleConnections();
}
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
