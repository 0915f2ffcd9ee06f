// First: before anything loads graphql (production-mode.ts).
import './config/production-mode.ts';
import { createServer, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { createGateway } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';

// The only file that listens on a port; everything else is built by createGateway().

// The log lines go to stdout (a few to stderr). When whatever reads them goes away (a log shipper
// restarting, a closed pipe), the next write fails with EPIPE as an 'error' event on the stream,
// and an 'error' event with no listener ends the process: the gateway serves on without its logs.
process.stdout.on('error', (error: Error) => {
  process.stderr.write(`stdout unwritable, logs are lost from here: ${error.message}\n`);
});
process.stderr.on('error', () => undefined);

let config: ReturnType<typeof loadConfig>;
let gateway: ReturnType<typeof createGateway>;
try {
  config = loadConfig();
  // Building reads files too (TRUSTED_DOCUMENTS): a bad one is a configuration error, one line.
  gateway = createGateway(config);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const { logger } = gateway;

switch (config.upstream.kind) {
  case 'local': {
    const { store } = config.localBackend;
    const where =
      store.kind === 'sqlite' ? `SQLite in ${store.dataDir}` : store.kind === 'postgres' ? 'PostgreSQL' : 'in memory';
    logger.info(`No OPENAI_API_KEY or OPENAI_BASE_URL: using the embedded local backend (${where}, no network).`);
    break;
  }
  case 'server-key':
    logger.info('Calling the upstream with the server key', {
      upstream: config.upstream.baseURL,
      upstreamApi: config.upstreamApi,
    });
    break;
  case 'pass-through':
    logger.info("Pass-through: each caller's bearer key goes upstream", {
      upstream: config.upstream.baseURL,
      upstreamApi: config.upstreamApi,
    });
    break;
}

/** Responses not yet finished: at SIGTERM each is told to close its connection when done. */
const active = new Set<ServerResponse>();
let stopping = false;

const server = createServer((req, res) => {
  // After SIGTERM every answer says `Connection: close`, and its connection ends with it.
  if (stopping) res.shouldKeepAlive = false;
  active.add(res);
  res.once('close', () => active.delete(res));
  gateway.requestListener(req, res);
});
server.on('upgrade', gateway.upgradeListener);
server.on('clientError', gateway.clientErrorListener);
// Longer than a load balancer's usual 60 s idle timeout, so the gateway never closes a kept-alive
// connection the balancer is about to reuse.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
let listening = false;
// Before listening (the port is taken, the address is not ours) the gateway cannot start: it says
// why and exits. Once listening, an error of the listener (an accept that failed for lack of file
// descriptors) is one connection lost, not a reason to drop all the others.
server.on('error', (error: Error) => {
  if (!listening) {
    logger.error('cannot listen', { host: config.host, port: config.port, error: error.message });
    process.exit(1);
  }
  logger.warn('listener error', { error: error.message });
});
// 1,000 clients connecting at once overflow Node's default backlog of 511.
server.listen({ port: config.port, host: config.host, backlog: 4096 }, () => {
  listening = true;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/graphql`;
  if (config.graphiql) logger.info(`GraphiQL at ${url}`);
  else logger.info(`GraphQL at ${url} (the GraphiQL page is off: GRAPHIQL, TRUSTED_DOCUMENTS)`);
  void gateway.checkUpstream().then((verdict) => {
    if (verdict.ok) {
      logger.info('upstream ready', {
        upstream: gateway.upstreamBaseURL,
        api: gateway.upstreamApiKind() ?? 'undetermined',
        detail: verdict.detail,
      });
    } else {
      logger.error('UPSTREAM NOT USABLE: /ready answers 503 until this is fixed', {
        upstream: gateway.upstreamBaseURL,
        reason: verdict.reason,
        detail: verdict.detail,
      });
    }
  });
});

/**
 * How long after SIGTERM the gateway still accepts and reads (answering with `Connection: close`):
 * a request already on the wire, or a connection the kernel already accepted, is served, not reset.
 */
const IDLE_GRACE_MS = Math.min(1000, config.shutdownDrainMs / 2);
/** After the drain deadline and the upstream abort: time for the coded answers to be written. */
const ANSWER_FLUSH_MS = 500;

/**
 * Shutdown that loses nothing: stop accepting, answer every request whose bytes arrived, and close
 * each connection after its answer. An idle keep-alive connection is not closed at once, since its
 * client may have sent a request that is still on the wire (closing it would reset that request):
 * it gets IDLE_GRACE_MS first. At SHUTDOWN_DRAIN_MS, in-flight upstream work is aborted, so the
 * requests waiting on it are answered with a coded error, and the process exits shortly after.
 */
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  const started = Date.now();
  logger.info('shutting down: draining in-flight requests', { signal, drainMs: config.shutdownDrainMs });
  gateway.startDraining();
  for (const res of active) if (!res.headersSent) res.shouldKeepAlive = false;
  const exit = (code: number) => {
    logger.info('stopped', { afterMs: Date.now() - started });
    process.exit(code);
  };
  let sweep: NodeJS.Timeout | undefined;
  setTimeout(() => {
    // Connections the kernel accepted but Node had not yet taken would be reset by closing the
    // listener at once: it closes after the grace, when they have been taken and answered.
    // net.Server's close stops accepting without http.Server's immediate close of idle connections.
    NetServer.prototype.close.call(server, () => {
      clearInterval(sweep);
      clearTimeout(deadline);
      void Promise.race([gateway.close().catch(() => undefined), delay(ANSWER_FLUSH_MS)]).then(() => exit(0));
    });
    server.closeIdleConnections();
    sweep = setInterval(() => server.closeIdleConnections(), 25);
  }, IDLE_GRACE_MS);
  const deadline = setTimeout(() => {
    logger.warn('drain time over: aborting upstream work and closing connections');
    void gateway.abortUpstream().catch(() => undefined);
    setTimeout(() => {
      server.closeAllConnections();
      exit(0);
    }, ANSWER_FLUSH_MS);
  }, config.shutdownDrainMs);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
