import { isIP } from 'node:net';
import { DEFAULT_BASE_URL } from './gateway-variables.ts';
import { type Limits, loadLimits } from './limits-config.ts';
import { type LiveConfig, loadLiveConfig } from './live-config.ts';
import { MEMORY_STORE_MAX_BYTES } from './local-backend-variables.ts';
import { ConfigError, type Env, readVariable, VARIABLES, type VariableType } from './variables.ts';

export type { Limits } from './limits-config.ts';
export { ConfigError } from './variables.ts';

/**
 * Every setting the gateway reads, parsed once from the environment into a frozen, typed object.
 * Each value's type, default and bounds are declared once, in gateway-variables.ts and
 * local-backend-variables.ts (docs/configuration.md is written from them); this file holds the
 * typed shape and the rules that tie several variables together. A bad value throws `ConfigError`
 * naming the variable, and `main.ts` stops with that message.
 */

/** How the gateway reaches the Threads API. */
export type UpstreamMode =
  /** No key and no URL: the embedded local backend, in-process. */
  | { kind: 'local' }
  /** `OPENAI_API_KEY` set: that key, at `OPENAI_BASE_URL` (default api.openai.com). */
  | { kind: 'server-key'; baseURL: string; apiKey: string }
  /** Only `OPENAI_BASE_URL` set: each caller's own bearer key goes upstream. */
  | { kind: 'pass-through'; baseURL: string };

/**
 * UPSTREAM_API: which API the upstream speaks. `threads` is the Threads REST API (Assistants v2);
 * `conversations` is OpenAI's Conversations API; `auto` means `conversations` on OpenAI's own host,
 * `threads` for the embedded local backend, and otherwise what the readiness probe finds the
 * upstream serves.
 */
export type UpstreamApiChoice = VariableType<'UPSTREAM_API'>;

/** LOG_LEVEL: `silent`, `error`, `warn`, `info` or `debug`. */
export type LogLevel = VariableType<'LOG_LEVEL'>;

/** Where the embedded local backend keeps threads and messages. */
export type StoreConfig =
  /** The default: one SQLite file in DATA_DIR. */
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  /** LOCAL_BACKEND_STORE=memory: process memory, lost on exit (tests, throwaway runs). */
  | { readonly kind: 'memory' }
  /** DATABASE_URL=postgres://…: one PostgreSQL database that several instances can share. */
  | { readonly kind: 'postgres'; readonly url: string };

export interface LocalBackendConfig {
  readonly store: StoreConfig;
  /**
   * LOCAL_BACKEND_MAX_BYTES: stored content (threads and messages as JSON) past which creates are
   * refused; its default depends on the store.
   */
  readonly maxBytes: number;
  /** LOCAL_BACKEND_MAX_BODY_BYTES: request body size the local backend reads; larger gets 413. */
  readonly maxBodyBytes: number;
  /** The model behind its runs and their timeout (docs/runs.md). */
  readonly runs: {
    /** LOCAL_BACKEND_MODEL_URL (unset: only the built-in `echo` model) and LOCAL_BACKEND_MODEL_KEY. */
    readonly model: { readonly url?: string; readonly key?: string };
    /** LOCAL_BACKEND_RUN_TIMEOUT_S, in ms: a run not finished by then is `expired`. */
    readonly timeoutMs: number;
  };
}

/** `npm run local-backend`: the backend on its own port. */
export interface LocalBackendServerConfig extends LocalBackendConfig {
  /** LOCAL_BACKEND_HOST and LOCAL_BACKEND_PORT: where it listens. */
  readonly host: string;
  readonly port: number;
  /** LOCAL_BACKEND_API_KEYS: the bearer keys it accepts; empty accepts any. */
  readonly apiKeys: readonly string[];
}

export interface Config {
  readonly upstream: UpstreamMode;
  /** UPSTREAM_API: `threads`, `conversations` or `auto` (see `UpstreamApiChoice`). */
  readonly upstreamApi: UpstreamApiChoice;
  /** HOST and PORT: where `npm start` listens. */
  readonly host: string;
  readonly port: number;
  /** UPSTREAM_CONCURRENCY: upstream calls one GraphQL request has in flight at once. */
  readonly upstreamConcurrency: number;
  /** UPSTREAM_TIMEOUT_MS: one upstream attempt. */
  readonly upstreamTimeoutMs: number;
  /** UPSTREAM_MAX_RETRIES: retries after the first attempt, where retrying is safe. */
  readonly upstreamMaxRetries: number;
  /** REQUEST_DEADLINE_MS: all upstream work of one GraphQL request, retries included. */
  readonly requestDeadlineMs: number;
  /**
   * UPSTREAM_CONNECTIONS: sockets the gateway keeps to the upstream. Calls beyond it wait for a
   * free socket, so it caps upstream throughput at connections ÷ upstream latency.
   */
  readonly upstreamConnections: number;
  /** UPSTREAM_MAX_RESPONSE_BYTES: an upstream answer longer than this is cut off and fails. */
  readonly upstreamMaxResponseBytes: number;
  readonly limits: Limits;
  /** GATEWAY_TOKENS: bearer tokens callers must present when the gateway holds a key. */
  readonly gatewayTokens: readonly string[];
  /** GATEWAY_ALLOW_ANONYMOUS: allow a server key on a non-loopback HOST without tokens. */
  readonly allowAnonymous: boolean;
  /** CORS_ORIGINS: allowed browser origins; `*` for any. Unset: any in pass-through, none with a server key or the local backend. */
  readonly corsOrigins: readonly string[] | '*' | undefined;
  /** IDEMPOTENCY_TTL_MS and IDEMPOTENCY_MAX_KEYS: the createThread idempotency store. */
  readonly idempotencyTtlMs: number;
  readonly idempotencyMaxKeys: number;
  /**
   * IDEMPOTENCY_KEYS_PER_CALLER (never more than IDEMPOTENCY_MAX_KEYS): keys one caller may have
   * remembered at once; past it that caller's new keyed creates are RATE_LIMITED, and no caller
   * ever evicts another's keys.
   */
  readonly idempotencyKeysPerCaller: number;
  readonly maxThreadsPerCaller: number; // MAX_THREADS_PER_CALLER: entries one caller's thread list holds at most
  readonly live: LiveConfig; // subscriptions: live-config.ts
  /**
   * IDEMPOTENCY_MAX_BYTES: bytes of remembered results in the in-memory store; each caller may hold
   * the same share of them as of the keys (IDEMPOTENCY_KEYS_PER_CALLER / IDEMPOTENCY_MAX_KEYS).
   */
  readonly idempotencyMaxBytes: number;
  /**
   * IDEMPOTENCY_CLAIM_MS (default: the longest a create may take, `longestCreateMs`): how long the
   * claim of a try that is creating lives unless its instance renews it; a crashed instance's key
   * is free again after this. Never shorter than a create may take, so a claim outlives its create
   * even when no renewal gets through (a stalled Redis).
   */
  readonly idempotencyClaimMs: number;
  /** REDIS_URL: shared state (idempotency keys, rate limits) in Redis; unset keeps it in memory, per instance. */
  readonly redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX: prefix of every key the gateway writes in Redis. */
  readonly redisKeyPrefix: string;
  /** REDIS_TIMEOUT_MS: the longest one Redis command (or a wait for a connection) may take. */
  readonly redisTimeoutMs: number;
  /** RATE_LIMIT_PER_MINUTE (unset or 0: no limit): upstream calls one caller may start in any 60 s. */
  readonly rateLimitPerMinute: number | undefined;
  /** Per-token limits from GATEWAY_TOKENS entries written `token:N` (N calls per minute). */
  readonly gatewayTokenLimits: Readonly<Record<string, number>>;
  /** SHUTDOWN_DRAIN_MS: how long in-flight requests may finish after SIGTERM / SIGINT. */
  readonly shutdownDrainMs: number;
  /** ALLOWED_HOSTS: Host names served (DNS-rebinding guard). Unset: see http/router.ts hostPolicy. */
  readonly allowedHosts: readonly string[];
  readonly graphiql: boolean; // GRAPHIQL: serve the GraphiQL page on GET /graphql from a browser
  /** TRUSTED_DOCUMENTS: path of a manifest (sha256 -> document); set, only its documents execute. */
  readonly trustedDocuments: string | undefined;
  /** ALLOW_INTROSPECTION: serve `__schema` and `__type`. */
  readonly allowIntrospection: boolean;
  /** APQ_MAX_ENTRIES (0 turns APQ off), APQ_MAX_BYTES, APQ_TTL_MS: automatic persisted queries' bounds. */
  readonly apq: { readonly maxEntries: number; readonly maxBytes: number; readonly ttlMs: number };
  readonly metricsOperations: readonly string[]; // METRICS_OPERATIONS: names that get their own metrics label
  readonly logLevel: LogLevel;
  /** The embedded local backend's storage and limits (used in local mode and by `npm run local-backend`). */
  readonly localBackend: LocalBackendConfig;
}

const MAX_RATE_LIMIT = VARIABLES.RATE_LIMIT_PER_MINUTE.max; // a per-token limit is a rate limit too

/**
 * GATEWAY_TOKENS entries are `token` or `token:N`, N being that token's own upstream calls per
 * minute (it overrides RATE_LIMIT_PER_MINUTE). The limit is whatever follows the last `:`.
 */
function gatewayTokens(env: Env): { tokens: string[]; limits: Record<string, number> } {
  const tokens: string[] = [];
  const limits: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [index, entry] of readVariable(env, 'GATEWAY_TOKENS').entries()) {
    const colon = entry.lastIndexOf(':');
    const token = colon === -1 ? entry : entry.slice(0, colon);
    if (token === '') throw new ConfigError(`GATEWAY_TOKENS entry ${index + 1} has no token before its ":"`);
    if (tokens.includes(token)) throw new ConfigError(`GATEWAY_TOKENS lists the token of entry ${index + 1} twice`);
    tokens.push(token);
    if (colon === -1) continue;
    const limit = entry.slice(colon + 1);
    // Never echo the entry: it is a secret.
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_RATE_LIMIT) {
      throw new ConfigError(
        `GATEWAY_TOKENS entry ${index + 1}: write "token:N" with N a whole number of upstream calls per minute ` +
          `from 1 to ${MAX_RATE_LIMIT} (a token may not itself end in ":something")`,
      );
    }
    limits[token] = Number(limit);
  }
  return { tokens, limits };
}

// The SDK joins paths onto the base URL: a query, fragment or credentials there would be mangled or leak.
function baseURL(raw: string): string {
  const url = new URL(raw);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError('OPENAI_BASE_URL must not carry a query, a fragment or credentials');
  }
  return url.href.replace(/\/+$/, '');
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function upstreamMode(env: Env): UpstreamMode {
  const apiKey = readVariable(env, 'OPENAI_API_KEY');
  const url = readVariable(env, 'OPENAI_BASE_URL');
  if (apiKey) return { kind: 'server-key', apiKey, baseURL: baseURL(url ?? DEFAULT_BASE_URL) };
  if (url) return { kind: 'pass-through', baseURL: baseURL(url) };
  return { kind: 'local' };
}

function storeConfig(env: Env): StoreConfig {
  const url = readVariable(env, 'DATABASE_URL');
  const kind = readVariable(env, 'LOCAL_BACKEND_STORE', url ? 'postgres' : 'sqlite');
  if (url && kind !== 'postgres') {
    throw new ConfigError(`DATABASE_URL is set but LOCAL_BACKEND_STORE=${kind}: unset one of them`);
  }
  if (kind === 'postgres') {
    if (!url) throw new ConfigError('LOCAL_BACKEND_STORE=postgres needs DATABASE_URL (postgres://user@host:5432/db)');
    return { kind: 'postgres', url };
  }
  if (kind === 'memory') return { kind: 'memory' };
  return { kind: 'sqlite', dataDir: readVariable(env, 'DATA_DIR') };
}

function localRunsConfig(env: Env): LocalBackendConfig['runs'] {
  const url = readVariable(env, 'LOCAL_BACKEND_MODEL_URL');
  const key = readVariable(env, 'LOCAL_BACKEND_MODEL_KEY');
  return Object.freeze({
    model: Object.freeze({ ...(url ? { url } : {}), ...(key ? { key } : {}) }),
    timeoutMs: readVariable(env, 'LOCAL_BACKEND_RUN_TIMEOUT_S') * 1000,
  });
}

/** The local backend's part of the configuration, also embedded in the gateway's. */
export function loadLocalBackendConfig(env: Env = process.env): LocalBackendConfig {
  const store = storeConfig(env);
  const defaultMaxBytes = store.kind === 'memory' ? MEMORY_STORE_MAX_BYTES : VARIABLES.LOCAL_BACKEND_MAX_BYTES.default;
  return Object.freeze({
    store: Object.freeze(store),
    maxBytes: readVariable(env, 'LOCAL_BACKEND_MAX_BYTES', defaultMaxBytes),
    maxBodyBytes: readVariable(env, 'LOCAL_BACKEND_MAX_BODY_BYTES'),
    runs: localRunsConfig(env),
  });
}

/** All that `npm run local-backend` reads: the backend's part plus where it listens and whom it lets in. */
export function loadLocalBackendServerConfig(env: Env = process.env): LocalBackendServerConfig {
  return Object.freeze({
    ...loadLocalBackendConfig(env),
    host: readVariable(env, 'LOCAL_BACKEND_HOST'),
    port: readVariable(env, 'LOCAL_BACKEND_PORT'),
    apiKeys: readVariable(env, 'LOCAL_BACKEND_API_KEYS'),
  });
}

/**
 * The longest one create may take upstream: each attempt is cut at UPSTREAM_TIMEOUT_MS, and with
 * retries the waits between them follow the upstream's Retry-After, so only the request's deadline
 * bounds them.
 */
export function longestCreateMs(limits: {
  requestDeadlineMs: number;
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
}): number {
  return limits.upstreamMaxRetries === 0
    ? Math.min(limits.requestDeadlineMs, limits.upstreamTimeoutMs)
    : limits.requestDeadlineMs;
}

function claimMs(env: Env, longest: number): number {
  const claim = readVariable(env, 'IDEMPOTENCY_CLAIM_MS', longest);
  if (claim < longest) {
    throw new ConfigError(
      `IDEMPOTENCY_CLAIM_MS=${claim} is shorter than a create may take upstream (${longest} ms: ` +
        'REQUEST_DEADLINE_MS, or UPSTREAM_TIMEOUT_MS when UPSTREAM_MAX_RETRIES=0), so a stalled Redis could hand ' +
        `the key to a second create; set it to at least ${longest} or lower those.`,
    );
  }
  return claim;
}

/** Reads a list whose entries must each look like `pattern`; `what` ends "entries must be …". */
function checkedList(
  env: Env,
  name: 'CORS_ORIGINS' | 'ALLOWED_HOSTS' | 'METRICS_OPERATIONS',
  pattern: RegExp,
  what: string,
): readonly string[] {
  const entries = readVariable(env, name);
  for (const entry of entries) {
    if (!pattern.test(entry)) throw new ConfigError(`${name} entries must be ${what}, got "${entry}"`);
  }
  return entries;
}

export function loadConfig(env: Env = process.env): Config {
  const upstream = upstreamMode(env);
  const host = readVariable(env, 'HOST');
  const { tokens: gatewayTokenList, limits: gatewayTokenLimits } = gatewayTokens(env);
  const allowAnonymous = readVariable(env, 'GATEWAY_ALLOW_ANONYMOUS');
  if (upstream.kind === 'server-key' && gatewayTokenList.length === 0 && !allowAnonymous && !isLoopbackHost(host)) {
    throw new ConfigError(
      `Refusing to serve the server's OPENAI_API_KEY to anyone on HOST=${host}: set GATEWAY_TOKENS ` +
        '(comma-separated bearer tokens callers must send), listen on a loopback HOST, ' +
        'or set GATEWAY_ALLOW_ANONYMOUS=true to accept this on purpose.',
    );
  }
  const origins = checkedList(
    env,
    'CORS_ORIGINS',
    /^(\*|https?:\/\/[^/\s]+)$/,
    'origins like https://app.example.com or *',
  );
  const upstreamTimeoutMs = readVariable(env, 'UPSTREAM_TIMEOUT_MS');
  const upstreamMaxRetries = readVariable(env, 'UPSTREAM_MAX_RETRIES');
  const idempotencyMaxKeys = readVariable(env, 'IDEMPOTENCY_MAX_KEYS');
  const trustedDocuments = readVariable(env, 'TRUSTED_DOCUMENTS');
  const requestDeadlineMs = readVariable(env, 'REQUEST_DEADLINE_MS');

  return Object.freeze({
    upstream: Object.freeze(upstream),
    upstreamApi: readVariable(env, 'UPSTREAM_API'),
    host,
    port: readVariable(env, 'PORT'),
    upstreamConcurrency: readVariable(env, 'UPSTREAM_CONCURRENCY'),
    upstreamTimeoutMs,
    upstreamMaxRetries,
    requestDeadlineMs,
    upstreamConnections: readVariable(env, 'UPSTREAM_CONNECTIONS'),
    upstreamMaxResponseBytes: readVariable(env, 'UPSTREAM_MAX_RESPONSE_BYTES'),
    limits: loadLimits(env),
    gatewayTokens: Object.freeze(gatewayTokenList),
    gatewayTokenLimits: Object.freeze(gatewayTokenLimits),
    allowAnonymous,
    corsOrigins: origins.length === 0 ? undefined : origins.includes('*') ? '*' : origins,
    idempotencyTtlMs: readVariable(env, 'IDEMPOTENCY_TTL_MS'),
    idempotencyMaxKeys,
    maxThreadsPerCaller: readVariable(env, 'MAX_THREADS_PER_CALLER'),
    live: loadLiveConfig(env),
    idempotencyKeysPerCaller: Math.min(readVariable(env, 'IDEMPOTENCY_KEYS_PER_CALLER'), idempotencyMaxKeys),
    idempotencyMaxBytes: readVariable(env, 'IDEMPOTENCY_MAX_BYTES'),
    idempotencyClaimMs: claimMs(env, longestCreateMs({ requestDeadlineMs, upstreamTimeoutMs, upstreamMaxRetries })),
    redisUrl: readVariable(env, 'REDIS_URL'),
    redisKeyPrefix: readVariable(env, 'REDIS_KEY_PREFIX'),
    redisTimeoutMs: readVariable(env, 'REDIS_TIMEOUT_MS'),
    rateLimitPerMinute: readVariable(env, 'RATE_LIMIT_PER_MINUTE') || undefined,
    shutdownDrainMs: readVariable(env, 'SHUTDOWN_DRAIN_MS'),
    allowedHosts: checkedList(
      env,
      'ALLOWED_HOSTS',
      /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/,
      'host names or host:port',
    ),
    graphiql: readVariable(env, 'GRAPHIQL', trustedDocuments === undefined),
    trustedDocuments,
    allowIntrospection: readVariable(env, 'ALLOW_INTROSPECTION', trustedDocuments === undefined),
    apq: Object.freeze({
      maxEntries: readVariable(env, 'APQ_MAX_ENTRIES'),
      maxBytes: readVariable(env, 'APQ_MAX_BYTES'),
      ttlMs: readVariable(env, 'APQ_TTL_MS'),
    }),
    metricsOperations: checkedList(
      env,
      'METRICS_OPERATIONS',
      /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
      'GraphQL operation names',
    ),
    logLevel: readVariable(env, 'LOG_LEVEL'),
    localBackend: loadLocalBackendConfig(env),
  });
}
