import { isIP } from 'node:net';

/**
 * Every setting the gateway reads, parsed once from the environment into a frozen, typed object.
 * A bad value throws `ConfigError` naming the variable, and `main.ts` stops with that message.
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
 * UPSTREAM_API (auto): which API the upstream speaks. `threads` is the Threads REST API
 * (Assistants v2); `conversations` is OpenAI's Conversations API; `auto` means `conversations` on
 * OpenAI's own host, `threads` for the embedded local backend, and otherwise what the readiness
 * probe finds the upstream serves.
 */
export const UPSTREAM_API_CHOICES = ['threads', 'conversations', 'auto'] as const;
export type UpstreamApiChoice = (typeof UPSTREAM_API_CHOICES)[number];

export interface Limits {
  /** MAX_ALIASES (100): aliases in one operation. */
  readonly aliases: number;
  /** MAX_TOKENS (5000): lexical tokens in one document. */
  readonly tokens: number;
  /** MAX_DEPTH (12): selection depth (introspection is exempt). */
  readonly depth: number;
  /** MAX_DIRECTIVES (50): directives in one operation. */
  readonly directives: number;
  /** MAX_UPSTREAM_CALLS (200): upstream calls one GraphQL request may make. */
  readonly upstreamCalls: number;
  /**
   * MAX_RESULT_NODES (50000): fields one answer may hold, estimated from the document and its
   * variables before execution (lists at their bounds); past it, RESULT_TOO_LARGE.
   */
  readonly resultNodes: number;
  /** MAX_RESPONSE_BYTES (8 MiB): bytes of one answer's JSON; past it, RESPONSE_TOO_LARGE instead. */
  readonly responseBytes: number;
  /** MAX_BODY_BYTES (1 MiB): request body size, larger gets 413; also the upstream write payloads of one request. */
  readonly bodyBytes: number;
  /** MAX_JSON_DEPTH (32): nesting of any JSON value in variables or JSON arguments. */
  readonly jsonDepth: number;
}

/** Where the embedded local backend keeps threads and messages. */
export type StoreConfig =
  /** The default: one SQLite file in DATA_DIR (default `./data`). */
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  /** LOCAL_BACKEND_STORE=memory: process memory, lost on exit (tests, throwaway runs). */
  | { readonly kind: 'memory' }
  /** DATABASE_URL=postgres://…: one PostgreSQL database that several instances can share. */
  | { readonly kind: 'postgres'; readonly url: string };

export interface LocalBackendConfig {
  readonly store: StoreConfig;
  /**
   * LOCAL_BACKEND_MAX_BYTES: stored content (threads and messages as JSON) past which creates are
   * refused. Default 1 GiB on disk, 64 MiB in memory.
   */
  readonly maxBytes: number;
  /** LOCAL_BACKEND_MAX_BODY_BYTES (2 MiB): request body size the local backend reads; larger gets 413. */
  readonly maxBodyBytes: number;
  /** The model behind its runs and their timeout (docs/runs.md). */
  readonly runs: {
    /** LOCAL_BACKEND_MODEL_URL (unset: only the built-in `echo` model): an OpenAI-compatible Chat Completions server. */
    readonly model: { readonly url?: string; readonly key?: string };
    /** LOCAL_BACKEND_RUN_TIMEOUT_S (600, 1..86400): a run not finished by then is `expired`. */
    readonly timeoutMs: number;
  };
}

export interface Config {
  readonly upstream: UpstreamMode;
  /** UPSTREAM_API (auto): `threads`, `conversations` or `auto` (see `UpstreamApiChoice`). */
  readonly upstreamApi: UpstreamApiChoice;
  /** HOST (127.0.0.1) and PORT (4000): where `npm start` listens. */
  readonly host: string;
  readonly port: number;
  /** UPSTREAM_CONCURRENCY (10): upstream calls one GraphQL request has in flight at once. */
  readonly upstreamConcurrency: number;
  /** UPSTREAM_TIMEOUT_MS (10000): one upstream attempt. */
  readonly upstreamTimeoutMs: number;
  /** UPSTREAM_MAX_RETRIES (2): retries after the first attempt, where retrying is safe. */
  readonly upstreamMaxRetries: number;
  /** REQUEST_DEADLINE_MS (30000): all upstream work of one GraphQL request, retries included. */
  readonly requestDeadlineMs: number;
  /**
   * UPSTREAM_CONNECTIONS (1024): sockets the gateway keeps to the upstream. Calls beyond it wait
   * for a free socket, so it caps upstream throughput at connections ÷ upstream latency.
   */
  readonly upstreamConnections: number;
  /** UPSTREAM_MAX_RESPONSE_BYTES (8 MiB): an upstream answer longer than this is cut off and fails. */
  readonly upstreamMaxResponseBytes: number;
  readonly limits: Limits;
  /** GATEWAY_TOKENS: bearer tokens callers must present when the gateway holds a key. */
  readonly gatewayTokens: readonly string[];
  /** GATEWAY_ALLOW_ANONYMOUS (false): allow a server key on a non-loopback HOST without tokens. */
  readonly allowAnonymous: boolean;
  /** CORS_ORIGINS: allowed browser origins; `*` for any. Unset: any without a server key, none with one. */
  readonly corsOrigins: readonly string[] | '*' | undefined;
  /** IDEMPOTENCY_TTL_MS (24 h) and IDEMPOTENCY_MAX_KEYS (100000): the createThread idempotency store. */
  readonly idempotencyTtlMs: number;
  readonly idempotencyMaxKeys: number;
  /**
   * IDEMPOTENCY_KEYS_PER_CALLER (10000, never more than IDEMPOTENCY_MAX_KEYS): keys one caller may
   * have remembered at once; past it that caller's new keyed creates are RATE_LIMITED, and no caller
   * ever evicts another's keys.
   */
  readonly idempotencyKeysPerCaller: number;
  /**
   * IDEMPOTENCY_MAX_BYTES (64 MiB): bytes of remembered results in the in-memory store; each caller
   * may hold the same share of them as of the keys (IDEMPOTENCY_KEYS_PER_CALLER / IDEMPOTENCY_MAX_KEYS).
   */
  readonly idempotencyMaxBytes: number;
  /**
   * IDEMPOTENCY_CLAIM_MS (default: the longest a create may take, `longestCreateMs`, 30000 with the
   * defaults): how long the claim of a try that is creating lives unless its instance renews it; a
   * crashed instance's key is free again after this. Never shorter than a create may take, so a
   * claim outlives its create even when no renewal gets through (a stalled Redis).
   */
  readonly idempotencyClaimMs: number;
  /** REDIS_URL: shared state (idempotency keys, rate limits) in Redis; unset keeps it in memory, per instance. */
  readonly redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX (`tgw:`): prefix of every key the gateway writes in Redis. */
  readonly redisKeyPrefix: string;
  /** REDIS_TIMEOUT_MS (500): the longest one Redis command (or a wait for a connection) may take. */
  readonly redisTimeoutMs: number;
  /** RATE_LIMIT_PER_MINUTE (unset: no limit): upstream calls one caller may start in any 60 s. */
  readonly rateLimitPerMinute: number | undefined;
  /** Per-token limits from GATEWAY_TOKENS entries written `token:N` (N calls per minute). */
  readonly gatewayTokenLimits: Readonly<Record<string, number>>;
  /** SHUTDOWN_DRAIN_MS (10000): how long in-flight requests may finish after SIGTERM / SIGINT. */
  readonly shutdownDrainMs: number;
  /** ALLOWED_HOSTS: Host names served (DNS-rebinding guard). Unset: see http/router.ts hostPolicy. */
  readonly allowedHosts: readonly string[];
  /** GRAPHIQL (true; false with TRUSTED_DOCUMENTS): serve the GraphiQL page on GET /graphql from a browser. */
  readonly graphiql: boolean;
  /** TRUSTED_DOCUMENTS (unset): path of a manifest (sha256 -> document); set, only its documents execute. */
  readonly trustedDocuments: string | undefined;
  /** ALLOW_INTROSPECTION (true; false with TRUSTED_DOCUMENTS): serve `__schema` and `__type`. */
  readonly allowIntrospection: boolean;
  /**
   * APQ_MAX_ENTRIES (10000, 0..1000000; 0 turns APQ off), APQ_MAX_BYTES (32 MiB) and APQ_TTL_MS (24 h):
   * documents registered by automatic persisted queries, per instance and in Redis with REDIS_URL.
   */
  readonly apq: { readonly maxEntries: number; readonly maxBytes: number; readonly ttlMs: number };
  /** METRICS_OPERATIONS: operation names that always get their own metrics label. */
  readonly metricsOperations: readonly string[];
  /** LOG_LEVEL (info): `silent`, `error`, `warn`, `info` or `debug`. */
  readonly logLevel: LogLevel;
  /** The embedded local backend's storage and limits (used in local mode and by `npm run local-backend`). */
  readonly localBackend: LocalBackendConfig;
}

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback = false): boolean {
  const raw = present(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be "true" or "false", got "${raw}"`);
}

function list(env: Env, name: string): string[] {
  return (present(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * GATEWAY_TOKENS entries are `token` or `token:N`, N being that token's own upstream calls per
 * minute (it overrides RATE_LIMIT_PER_MINUTE). The limit is whatever follows the last `:`.
 */
function gatewayTokens(env: Env): { tokens: string[]; limits: Record<string, number> } {
  const tokens: string[] = [];
  const limits: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [index, entry] of list(env, 'GATEWAY_TOKENS').entries()) {
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

/** The largest per-minute limit: the limiters remember one timestamp per call in the window. */
const MAX_RATE_LIMIT = 1_000_000;

function redisUrl(env: Env): string | undefined {
  const raw = present(env, 'REDIS_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL must be a URL like redis://127.0.0.1:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must use redis:// or rediss://, got "${url.protocol}"`);
  }
  return raw;
}

function baseURL(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`OPENAI_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`OPENAI_BASE_URL must use http or https, got "${url.protocol}"`);
  }
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
  const apiKey = present(env, 'OPENAI_API_KEY');
  const url = present(env, 'OPENAI_BASE_URL');
  if (apiKey) return { kind: 'server-key', apiKey, baseURL: baseURL(url ?? DEFAULT_BASE_URL) };
  if (url) return { kind: 'pass-through', baseURL: baseURL(url) };
  return { kind: 'local' };
}

const STORE_KINDS = ['sqlite', 'memory', 'postgres'] as const;

function storeConfig(env: Env): StoreConfig {
  const url = present(env, 'DATABASE_URL');
  const kind = present(env, 'LOCAL_BACKEND_STORE') ?? (url ? 'postgres' : 'sqlite');
  if (!(STORE_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`LOCAL_BACKEND_STORE must be one of ${STORE_KINDS.join(', ')}, got "${kind}"`);
  }
  if (url && kind !== 'postgres') {
    throw new ConfigError(`DATABASE_URL is set but LOCAL_BACKEND_STORE=${kind}: unset one of them`);
  }
  if (kind === 'postgres') {
    if (!url) throw new ConfigError('LOCAL_BACKEND_STORE=postgres needs DATABASE_URL (postgres://user@host:5432/db)');
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    return { kind: 'postgres', url };
  }
  if (kind === 'memory') return { kind: 'memory' };
  return { kind: 'sqlite', dataDir: present(env, 'DATA_DIR') ?? './data' };
}

function localRunsConfig(env: Env): LocalBackendConfig['runs'] {
  const url = present(env, 'LOCAL_BACKEND_MODEL_URL');
  if (url && !/^https?:\/\//.test(url))
    throw new ConfigError('LOCAL_BACKEND_MODEL_URL must be an http:// or https:// URL');
  const key = present(env, 'LOCAL_BACKEND_MODEL_KEY');
  return Object.freeze({
    model: Object.freeze({ ...(url ? { url } : {}), ...(key ? { key } : {}) }),
    timeoutMs: integer(env, 'LOCAL_BACKEND_RUN_TIMEOUT_S', 600, 1, 86_400) * 1000,
  });
}

/** The local backend's part of the configuration; `npm run local-backend` reads only this. */
export function loadLocalBackendConfig(env: Env = process.env): LocalBackendConfig {
  const store = storeConfig(env);
  const defaultMaxBytes = store.kind === 'memory' ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
  return Object.freeze({
    store: Object.freeze(store),
    maxBytes: integer(env, 'LOCAL_BACKEND_MAX_BYTES', defaultMaxBytes, 1024, Number.MAX_SAFE_INTEGER),
    maxBodyBytes: integer(env, 'LOCAL_BACKEND_MAX_BODY_BYTES', 2 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    runs: localRunsConfig(env),
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
  const claim = integer(env, 'IDEMPOTENCY_CLAIM_MS', longest, 100, 3_600_000);
  if (claim < longest) {
    throw new ConfigError(
      `IDEMPOTENCY_CLAIM_MS=${claim} is shorter than a create may take upstream (${longest} ms: ` +
        'REQUEST_DEADLINE_MS, or UPSTREAM_TIMEOUT_MS when UPSTREAM_MAX_RETRIES=0), so a stalled Redis could hand ' +
        `the key to a second create; set it to at least ${longest} or lower those.`,
    );
  }
  return claim;
}

export function loadConfig(env: Env = process.env): Config {
  const upstream = upstreamMode(env);
  const host = present(env, 'HOST') ?? '127.0.0.1';
  const { tokens: gatewayTokenList, limits: gatewayTokenLimits } = gatewayTokens(env);
  const allowAnonymous = boolean(env, 'GATEWAY_ALLOW_ANONYMOUS');
  if (upstream.kind === 'server-key' && gatewayTokenList.length === 0 && !allowAnonymous && !isLoopbackHost(host)) {
    throw new ConfigError(
      `Refusing to serve the server's OPENAI_API_KEY to anyone on HOST=${host}: set GATEWAY_TOKENS ` +
        '(comma-separated bearer tokens callers must send), listen on a loopback HOST, ' +
        'or set GATEWAY_ALLOW_ANONYMOUS=true to accept this on purpose.',
    );
  }
  const origins = list(env, 'CORS_ORIGINS');
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entries must be origins like https://app.example.com or *, got "${origin}"`);
    }
  }
  const logLevel = (present(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const upstreamApi = (present(env, 'UPSTREAM_API')?.toLowerCase() ?? 'auto') as UpstreamApiChoice;
  if (!UPSTREAM_API_CHOICES.includes(upstreamApi)) {
    throw new ConfigError(`UPSTREAM_API must be one of ${UPSTREAM_API_CHOICES.join(', ')}, got "${upstreamApi}"`);
  }
  const upstreamTimeoutMs = integer(env, 'UPSTREAM_TIMEOUT_MS', 10_000, 1, 600_000);
  const upstreamMaxRetries = integer(env, 'UPSTREAM_MAX_RETRIES', 2, 0, 10);
  const idempotencyMaxKeys = integer(env, 'IDEMPOTENCY_MAX_KEYS', 100_000, 1, 10_000_000);
  const requestDeadlineMs = integer(env, 'REQUEST_DEADLINE_MS', 30_000, 1, 3_600_000);

  return Object.freeze({
    upstream: Object.freeze(upstream),
    upstreamApi,
    host,
    port: integer(env, 'PORT', 4000, 0, 65_535),
    upstreamConcurrency: integer(env, 'UPSTREAM_CONCURRENCY', 10, 1, 1000),
    upstreamTimeoutMs,
    upstreamMaxRetries,
    requestDeadlineMs,
    upstreamConnections: integer(env, 'UPSTREAM_CONNECTIONS', 1024, 1, 65_535),
    upstreamMaxResponseBytes: integer(env, 'UPSTREAM_MAX_RESPONSE_BYTES', 8 * 1024 * 1024, 1024, 2 ** 31 - 1),
    limits: Object.freeze({
      aliases: integer(env, 'MAX_ALIASES', 100, 1, 100_000),
      tokens: integer(env, 'MAX_TOKENS', 5000, 100, 1_000_000),
      depth: integer(env, 'MAX_DEPTH', 12, 2, 1000),
      directives: integer(env, 'MAX_DIRECTIVES', 50, 1, 100_000),
      upstreamCalls: integer(env, 'MAX_UPSTREAM_CALLS', 200, 1, 100_000),
      resultNodes: integer(env, 'MAX_RESULT_NODES', 50_000, 100, 10_000_000),
      // At most 256 MiB: an answer Yoga serialises in one piece (SSE, multipart) stays well under
      // V8's longest string (2^29 - 24 characters).
      responseBytes: integer(env, 'MAX_RESPONSE_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      bodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      jsonDepth: integer(env, 'MAX_JSON_DEPTH', 32, 2, 1000),
    }),
    gatewayTokens: Object.freeze(gatewayTokenList),
    gatewayTokenLimits: Object.freeze(gatewayTokenLimits),
    allowAnonymous,
    corsOrigins: origins.length === 0 ? undefined : origins.includes('*') ? '*' : Object.freeze(origins),
    idempotencyTtlMs: integer(env, 'IDEMPOTENCY_TTL_MS', 24 * 60 * 60 * 1000, 1000, 30 * 24 * 60 * 60 * 1000),
    idempotencyMaxKeys,
    idempotencyKeysPerCaller: Math.min(
      integer(env, 'IDEMPOTENCY_KEYS_PER_CALLER', 10_000, 1, 10_000_000),
      idempotencyMaxKeys,
    ),
    idempotencyMaxBytes: integer(env, 'IDEMPOTENCY_MAX_BYTES', 64 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
    idempotencyClaimMs: claimMs(env, longestCreateMs({ requestDeadlineMs, upstreamTimeoutMs, upstreamMaxRetries })),
    redisUrl: redisUrl(env),
    redisKeyPrefix: present(env, 'REDIS_KEY_PREFIX') ?? 'tgw:',
    redisTimeoutMs: integer(env, 'REDIS_TIMEOUT_MS', 500, 10, 60_000),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 0, 0, MAX_RATE_LIMIT) || undefined,
    shutdownDrainMs: integer(env, 'SHUTDOWN_DRAIN_MS', 10_000, 0, 600_000),
    allowedHosts: Object.freeze(allowedHosts(env)),
    graphiql: boolean(env, 'GRAPHIQL', present(env, 'TRUSTED_DOCUMENTS') === undefined),
    trustedDocuments: present(env, 'TRUSTED_DOCUMENTS'),
    allowIntrospection: boolean(env, 'ALLOW_INTROSPECTION', present(env, 'TRUSTED_DOCUMENTS') === undefined),
    apq: Object.freeze({
      maxEntries: integer(env, 'APQ_MAX_ENTRIES', 10_000, 0, 1_000_000),
      maxBytes: integer(env, 'APQ_MAX_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      ttlMs: integer(env, 'APQ_TTL_MS', 24 * 60 * 60 * 1000, 1000, 30 * 24 * 60 * 60 * 1000),
    }),
    metricsOperations: Object.freeze(metricsOperations(env)),
    logLevel,
    localBackend: loadLocalBackendConfig(env),
  });
}

function allowedHosts(env: Env): string[] {
  const hosts = list(env, 'ALLOWED_HOSTS');
  for (const host of hosts) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) {
      throw new ConfigError(`ALLOWED_HOSTS entries must be host names or host:port, got "${host}"`);
    }
  }
  return hosts;
}

function metricsOperations(env: Env): string[] {
  const names = list(env, 'METRICS_OPERATIONS');
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
      throw new ConfigError(`METRICS_OPERATIONS entries must be GraphQL operation names, got "${name}"`);
    }
  }
  return names;
}
