import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Registry } from 'prom-client';
import type { Config } from './config/config.ts';
import type { IdempotencyStore } from './features/idempotency/idempotency-store.ts';
import { loadTrustedManifest } from './features/persisted-documents/trusted-manifest.ts';
import type { DependencyVerdict } from './features/redis/redis-connection.ts';
import { LazyRunRecords, openRunRecords } from './features/runs/open-run-records.ts';
import type { RunRecords } from './features/runs/run-records.ts';
import { createSharedState } from './features/shared-state.ts';
import { LazyThreadIndex, openThreadIndex } from './features/thread-index/open-thread-index.ts';
import type { ThreadIndex } from './features/thread-index/thread-index.ts';
import { createContextFactory, type GatewayContext } from './graphql/context.ts';
import { createGatewayYoga, type GatewayYoga } from './graphql/yoga.ts';
import { GatewayMetrics } from './http/metrics.ts';
import { answerClientError, createNodeListener } from './http/node-listener.ts';
import { RequestStates } from './http/request-state.ts';
import { createWebSocketTransport, type WebSocketTransport } from './http/websocket.ts';
import { createLive } from './live/create-live.ts';
import { createLocalBackend, type LocalBackend } from './local-backend/backend.ts';
import { createStore } from './local-backend/store/create-store.ts';
import { openingStore } from './local-backend/store/opening-store.ts';
import type { Store } from './local-backend/store/store.ts';
import { createLogger, type Logger } from './logger.ts';
import { schema } from './schema/index.ts';
import type { UpstreamFetch } from './upstream/calls/call-session.ts';
import { ConversationsApi } from './upstream/conversations/conversations-api.ts';
import { ApiSelection, chosenApi, DetectedUpstreamApi } from './upstream/detection/api-selection.ts';
import { UpstreamHealth } from './upstream/detection/health.ts';
import type { ProbeVerdict } from './upstream/detection/probe.ts';
import type { ReadPath } from './upstream/sdk/read-paths.ts';
import { createUpstreamTransport } from './upstream/sdk/transport.ts';
import { ThreadsRestApi } from './upstream/threads-rest/threads-rest-api.ts';
import type { UpstreamApi, UpstreamApiKind } from './upstream/upstream-api.ts';

/** The base URL the SDK is given for the in-process local backend; nothing listens there. */
const LOCAL_BACKEND_URL = 'http://local-backend.invalid/v1';

export interface GatewayOptions {
  logger?: Logger;
  /** Replaces the upstream transport (tests shape what the upstream sees with it). */
  fetch?: UpstreamFetch;
  /**
   * Replaces the upstream API itself (no SDK, no HTTP). The benchmark's ceiling uses it to
   * measure what GraphQL serving alone costs; a production gateway never sets it.
   */
  upstreamApi?: UpstreamApi;
  /** The local backend's store in local mode; default the configured one (createStore). */
  localStore?: Store;
  /** Replaces the idempotency store (default: Redis with REDIS_URL, else in memory). */
  idempotencyStore?: IdempotencyStore;
  /**
   * The adapters' hot reads: the lean path (default) or the SDK's resource methods. The lean path's
   * contract test runs a gateway of each and compares them (src/upstream/sdk/read-paths.ts).
   */
  upstreamReads?: ReadPath;
  /**
   * The gateway's own run and assistant records (runs over the Conversations API); default the
   * configured store's: SQLite `gateway.db` in DATA_DIR, PostgreSQL with DATABASE_URL, or memory.
   */
  runRecords?: RunRecords;
  /** Each caller's thread list (`viewer.threads`); default in the configured store, as `runRecords`. */
  threadIndex?: ThreadIndex;
}

export interface Gateway {
  readonly config: Config;
  /** Call it in-process with `gateway.yoga.fetch(request)`, or mount it in a framework. */
  readonly yoga: GatewayYoga;
  /**
   * For `http.createServer(gateway.requestListener)`: Yoga's own listener, with requests whose
   * target or Host is not a URL (absolute-form, `*`) refused 400 before Yoga answers them with a
   * stack trace.
   */
  readonly requestListener: (req: IncomingMessage, res: ServerResponse) => void;
  /** For `server.on('upgrade', …)`: GraphQL over WebSocket (graphql-transport-ws) on the GraphQL path. */
  readonly upgradeListener: WebSocketTransport['upgrade'];
  /** For `server.on('clientError', …)`: a request Node's parser refuses (headers over 16 KB, …) gets a coded answer. */
  readonly clientErrorListener: typeof answerClientError;
  /** The public schema, as introspection serves it. */
  readonly schema: GraphQLSchema;
  /**
   * A per-request context (credentials from the request's headers), for running operations on
   * `schema` in-process with graphql-js `execute`. Make one per request; never share it.
   */
  createContext(request: Request): GatewayContext;
  /** The Prometheus registry behind `/metrics`, to merge into a host application's own. */
  readonly metrics: Registry;
  /** The embedded backend, in local mode. */
  readonly localBackend: LocalBackend | undefined;
  /** Each caller's thread list, in the gateway's store (tests seed and break it directly). */
  readonly threadIndex: ThreadIndex;
  readonly upstreamBaseURL: string;
  /** Probes the upstream (start-up and `/ready` use it). */
  checkUpstream(): Promise<ProbeVerdict>;
  /** Whether the shared state (Redis with REDIS_URL) answers, for `/ready`; always ok in memory. */
  checkSharedState(): Promise<DependencyVerdict>;
  /**
   * The upstream API in use, `threads` or `conversations` (UPSTREAM_API, or what `auto` detected);
   * undefined while `auto` has not found out yet.
   */
  upstreamApiKind(): UpstreamApiKind | undefined;
  /** The gateway's logger (the one given, or a JSON logger that redacts the configured secrets). */
  readonly logger: Logger;
  /** Releases sockets and the local backend. */
  close(): Promise<void>;
  /**
   * Ends all in-flight upstream work at once (shutdown's deadline), so none outlives its client:
   * the requests waiting on it are answered with a coded error instead.
   */
  abortUpstream(): Promise<void>;
  /** Shutdown has begun: `/ready` answers 503 so load balancers stop sending new work. */
  startDraining(): void;
}

/** How the gateway reaches its upstream: the transport (or the in-process local backend). */
interface UpstreamLink {
  fetch: UpstreamFetch;
  localBackend: LocalBackend | undefined;
  close: () => Promise<void>;
  abort: () => Promise<void>;
}

function upstreamLink(config: Config, options: GatewayOptions, logger: Logger): UpstreamLink {
  if (options.fetch) return { fetch: options.fetch, localBackend: undefined, close: noop, abort: noop };
  if (config.upstream.kind !== 'local') {
    const transport = createUpstreamTransport({
      connections: config.upstreamConnections,
      maxResponseBytes: config.upstreamMaxResponseBytes,
    });
    return { fetch: transport.fetch, localBackend: undefined, close: transport.close, abort: transport.abort };
  }
  const storeConfig = config.localBackend;
  const store =
    options.localStore ??
    openingStore({
      kind: storeConfig.store.kind,
      open: () =>
        createStore(storeConfig, {
          onBackgroundError: (error) => logger.warn('local backend store: connection error', { error: error.message }),
          onWarning: (message) => logger.warn(message),
        }),
      onOpenError: (error) =>
        logger.error('LOCAL BACKEND STORE NOT USABLE: requests answer UPSTREAM_UNAVAILABLE until it opens', {
          store: storeConfig.store.kind,
          error: error instanceof Error ? error.message : String(error),
        }),
    });
  const backend = createLocalBackend({ store, maxBodyBytes: storeConfig.maxBodyBytes, runs: storeConfig.runs });
  return {
    fetch: (input, init) => backend.fetch(input instanceof Request ? input : new Request(input, init)),
    localBackend: backend,
    close: () => backend.stop().then(() => store.close()),
    abort: noop,
  };
}

const noop = async (): Promise<void> => undefined;

/** The upstream API (an adapter, or the one `auto` detects) and its readiness. */
function upstreamApi(
  config: Config,
  options: GatewayOptions,
  fetch: UpstreamFetch,
  runRecords: RunRecords,
): { upstream: UpstreamApi; health: UpstreamHealth; baseURL: string } {
  const apiKey = config.upstream.kind === 'server-key' ? config.upstream.apiKey : undefined;
  const baseURL = config.upstream.kind === 'local' ? LOCAL_BACKEND_URL : config.upstream.baseURL;
  const upstreamKey = config.upstream.kind === 'local' ? 'local-backend' : apiKey;
  const adapterOptions = {
    baseURL,
    ...(upstreamKey ? { apiKey: upstreamKey } : {}),
    fetch,
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
    ...(options.upstreamReads ? { reads: options.upstreamReads } : {}),
  };
  const selection = new ApiSelection(
    options.upstreamApi ? options.upstreamApi.kind : chosenApi(config.upstreamApi, config.upstream),
    // The readiness probes: the adapters' options, with a shorter timeout.
    { ...adapterOptions, timeoutMs: Math.min(config.upstreamTimeoutMs, 5_000) },
  );
  // The gateway's run and assistant records serve one tenant: with pass-through keys each caller's
  // key is its own tenant upstream, and records shared across keys would cross them. There, runs
  // and assistants over the Conversations API are refused (UNSUPPORTED_BY_UPSTREAM).
  const records = config.upstream.kind === 'pass-through' ? {} : { runRecords };
  let upstream: UpstreamApi;
  if (options.upstreamApi) upstream = options.upstreamApi;
  else if (selection.choice === 'threads') upstream = new ThreadsRestApi(adapterOptions);
  else if (selection.choice === 'conversations') upstream = new ConversationsApi({ ...adapterOptions, ...records });
  else {
    upstream = new DetectedUpstreamApi(selection, {
      threads: new ThreadsRestApi(adapterOptions),
      conversations: new ConversationsApi({ ...adapterOptions, ...records }),
    });
  }
  const health = new UpstreamHealth(
    options.upstreamApi
      ? () =>
          Promise.resolve({
            ok: true as const,
            detail: 'in-memory upstream calls',
            api: selection.choice as UpstreamApiKind,
          })
      : selection.probe,
    { apiKind: () => selection.known },
  );
  return { upstream, health, baseURL };
}

/** The gateway's run and assistant records, opened on first use (a gateway that serves no run opens nothing). */
function gatewayRunRecords(config: Config, options: GatewayOptions, logger: Logger): RunRecords {
  if (options.runRecords) return options.runRecords;
  const store = config.localBackend.store;
  return new LazyRunRecords(store.kind, () =>
    openRunRecords(store, {
      onBackgroundError: (error) => logger.warn('run records: connection error', { error: error.message }),
      onWarning: (message) => logger.warn(message),
    }),
  );
}

/** The callers' thread lists, opened on first use in the same store as the run records. */
function gatewayThreadIndex(config: Config, options: GatewayOptions, logger: Logger): ThreadIndex {
  if (options.threadIndex) return options.threadIndex;
  const store = config.localBackend.store;
  return new LazyThreadIndex(store.kind, () =>
    openThreadIndex(store, {
      onBackgroundError: (error) => logger.warn('thread index: connection error', { error: error.message }),
      onWarning: (message) => logger.warn(message),
    }),
  );
}

/** Builds the whole gateway for one config. It never listens: `main.ts` does. */
export function createGateway(config: Config, options: GatewayOptions = {}): Gateway {
  // First, before anything is opened: an unusable manifest stops start-up (ConfigError).
  const trustedDocuments = config.trustedDocuments ? loadTrustedManifest(config.trustedDocuments) : undefined;
  const apiKey = config.upstream.kind === 'server-key' ? config.upstream.apiKey : undefined;
  const logger =
    options.logger ?? createLogger(config.logLevel, apiKey ? [apiKey, ...config.gatewayTokens] : config.gatewayTokens);

  const link = upstreamLink(config, options, logger);
  const runRecords = gatewayRunRecords(config, options, logger);
  const threadIndex = gatewayThreadIndex(config, options, logger);
  const { upstream, health, baseURL } = upstreamApi(config, options, link.fetch, runRecords);
  const sharedState = createSharedState(config, logger, options);
  // Subscriptions: every write through the graph tells the thread's subscribers, every run gets a producer.
  const metrics = new GatewayMetrics(config.metricsOperations);
  const liveSystem = createLive(config, upstream, sharedState.redis, logger, metrics.observeUpstream);
  metrics.trackUpstreamApi(() => health.apiKind);
  const lifecycle = { draining: false };
  const states = new RequestStates(config);
  const createContext = createContextFactory({
    config,
    states,
    upstream: liveSystem.upstream,
    live: liveSystem.live,
    health,
    idempotentCreates: sharedState.idempotentCreates,
    rateLimiter: sharedState.rateLimiter,
    metrics,
    threadIndex,
  });
  const yoga = createGatewayYoga({
    config,
    schema,
    states,
    createContext,
    health,
    persistedQueries: sharedState.persistedQueries,
    trustedDocuments,
    checkSharedState: () => sharedState.check(),
    logger,
    metrics,
    lifecycle,
  });

  const websockets = createWebSocketTransport({ config, fetch: (request) => Promise.resolve(yoga.fetch(request)) });

  return {
    config,
    yoga,
    requestListener: createNodeListener(yoga),
    clientErrorListener: answerClientError,
    upgradeListener: websockets.upgrade,
    schema,
    createContext,
    metrics: metrics.registry,
    logger,
    localBackend: link.localBackend,
    threadIndex,
    upstreamBaseURL: baseURL,
    checkUpstream: () => health.check(),
    upstreamApiKind: () => health.apiKind,
    checkSharedState: () => sharedState.check(),
    close: async () => {
      websockets.close();
      await link.close();
      await runRecords.close();
      await threadIndex.close();
      await liveSystem.close();
      await sharedState.close();
    },
    abortUpstream: () => link.abort(),
    startDraining: () => {
      lifecycle.draining = true;
      // Subscriptions end with SHUTTING_DOWN and their cursor; then their sockets close.
      liveSystem.live.shutdown();
      setTimeout(() => websockets.close(), 250).unref();
    },
  };
}
