import { GiB, KiB, MiB, type Variable } from './declaration.ts';

/** Where a server key goes when OPENAI_BASE_URL is unset. */
export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const HOUR_MS = 60 * 60 * 1000;

/** The gateway's own variables (the local backend's are in local-backend-variables.ts). */
export const GATEWAY_VARIABLES = {
  HOST: {
    group: 'Server',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Where `npm start` listens.',
  },
  PORT: {
    group: 'Server',
    kind: 'integer',
    default: 4000,
    min: 0,
    max: 65_535,
    description: 'Port `npm start` listens on (0 picks a free one).',
  },
  GATEWAY_TOKENS: {
    group: 'Server',
    kind: 'list',
    secret: true,
    description:
      'Bearer tokens callers must send (not in pass-through mode, where their own key is the credential); `token:N` gives a token its own limit of N upstream calls a minute.',
  },
  GATEWAY_ALLOW_ANONYMOUS: {
    group: 'Server',
    kind: 'boolean',
    default: false,
    description: 'Allow a server key on a non-loopback `HOST` without tokens (otherwise the gateway refuses to start).',
  },
  CORS_ORIGINS: {
    group: 'Server',
    kind: 'list',
    description:
      'Allowed browser origins, or `*`. Unset: any origin when callers bring their own keys (pass-through); **none** with a server key or the local backend. Credentials are never allowed.',
  },
  ALLOWED_HOSTS: {
    group: 'Server',
    kind: 'list',
    description:
      '`Host` names served (`name` or `name:port`). Unset: the bound host and `localhost` on a loopback `HOST`; any with `GATEWAY_TOKENS` or a public `HOST`.',
  },
  GRAPHIQL: {
    group: 'Server',
    kind: 'boolean',
    default: true,
    defaultText: '`true` (`false` with `TRUSTED_DOCUMENTS`)',
    description: 'Serve GraphiQL on a browser GET of `/graphql`.',
  },
  SHUTDOWN_DRAIN_MS: {
    group: 'Server',
    kind: 'integer',
    default: 10_000,
    min: 0,
    max: 600_000,
    unit: 'ms',
    description: 'How long in-flight requests may finish after SIGTERM / SIGINT; then upstream work is aborted.',
  },

  OPENAI_API_KEY: {
    group: 'Upstream',
    kind: 'string',
    secret: true,
    description: "The server's key for the upstream; callers never see it.",
  },
  OPENAI_BASE_URL: {
    group: 'Upstream',
    kind: 'url',
    schemes: ['http', 'https'],
    format: 'an absolute http(s) URL',
    parse: true,
    defaultText: `\`${DEFAULT_BASE_URL}\` with a key, else unset`,
    description:
      'Any server that speaks the Threads REST API (no query or credentials). Set without a key: each caller’s own key goes upstream.',
  },
  UPSTREAM_API: {
    group: 'Upstream',
    kind: 'enum',
    choices: ['threads', 'conversations', 'auto'],
    default: 'auto',
    description:
      'Which API the upstream speaks; `auto`: `conversations` on OpenAI’s host, `threads` locally, else what the readiness probe finds.',
  },
  UPSTREAM_CONCURRENCY: {
    group: 'Upstream',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 1000,
    description: 'Upstream calls one GraphQL request has in flight at once.',
  },
  UPSTREAM_TIMEOUT_MS: {
    group: 'Upstream',
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 600_000,
    unit: 'ms',
    description: 'One upstream attempt, timed from when a socket takes it; also the longest wait for a free socket.',
  },
  UPSTREAM_MAX_RETRIES: {
    group: 'Upstream',
    kind: 'integer',
    default: 2,
    min: 0,
    max: 10,
    description: 'Retries after the first attempt, where retrying is safe.',
  },
  REQUEST_DEADLINE_MS: {
    group: 'Upstream',
    kind: 'integer',
    default: 30_000,
    min: 1,
    max: HOUR_MS,
    unit: 'ms',
    description: 'All upstream work of one GraphQL request, retries and waits included.',
  },
  UPSTREAM_CONNECTIONS: {
    group: 'Upstream',
    kind: 'integer',
    default: 1024,
    min: 1,
    max: 65_535,
    description: 'Sockets kept to the upstream; caps upstream throughput at connections ÷ upstream latency.',
  },
  UPSTREAM_MAX_RESPONSE_BYTES: {
    group: 'Upstream',
    kind: 'integer',
    default: 8 * MiB,
    min: KiB,
    max: 2 ** 31 - 1,
    unit: 'bytes',
    description: 'An upstream answer longer than this is cut off and the call fails with `UPSTREAM_ERROR`.',
  },

  MAX_ALIASES: {
    group: 'Limits',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 100_000,
    description: 'Aliases in one operation.',
  },
  MAX_TOKENS: {
    group: 'Limits',
    kind: 'integer',
    default: 5000,
    min: 100,
    max: 1_000_000,
    description: 'Lexical tokens in one document.',
  },
  MAX_DEPTH: {
    group: 'Limits',
    kind: 'integer',
    default: 12,
    min: 2,
    max: 1000,
    description: 'Selection depth (introspection is exempt).',
  },
  MAX_DIRECTIVES: {
    group: 'Limits',
    kind: 'integer',
    default: 50,
    min: 1,
    max: 100_000,
    description: 'Directives in one operation.',
  },
  MAX_UPSTREAM_CALLS: {
    group: 'Limits',
    kind: 'integer',
    default: 200,
    min: 1,
    max: 100_000,
    description: 'Upstream calls one GraphQL request may make.',
  },
  MAX_RESULT_NODES: {
    group: 'Limits',
    kind: 'integer',
    default: 50_000,
    min: 100,
    max: 10_000_000,
    description:
      'Fields one answer may hold, estimated before execution (each list at its bound). Past it: `RESULT_TOO_LARGE`, nothing upstream.',
  },
  MAX_RESPONSE_BYTES: {
    group: 'Limits',
    kind: 'integer',
    default: 8 * MiB,
    min: KiB,
    // An answer Yoga serialises in one piece (SSE, multipart) stays well under V8's longest string
    // (2^29 - 24 characters).
    max: 256 * MiB,
    unit: 'bytes',
    description:
      'Bytes of one answer’s JSON (or one subscription event’s), measured before any is written. Past it: `RESPONSE_TOO_LARGE` instead.',
  },
  MAX_ANSWER_BYTES_IN_FLIGHT: {
    group: 'Limits',
    kind: 'integer',
    default: 256 * MiB,
    min: MiB,
    max: 64 * GiB,
    unit: 'bytes',
    description:
      'Bytes of the large answers (over 64 KB) being written at once, all clients together. Past it: `SERVER_BUSY`, retry.',
  },
  ANSWER_STALL_MS: {
    group: 'Limits',
    kind: 'integer',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    unit: 'ms',
    description: 'A large answer whose client reads none of it for this long is cut off, its memory released.',
  },
  MAX_BODY_BYTES: {
    group: 'Limits',
    kind: 'integer',
    default: MiB,
    min: KiB,
    max: GiB,
    unit: 'bytes',
    description: 'Request body size (larger gets 413), and the most one request may write upstream.',
  },
  MAX_JSON_DEPTH: {
    group: 'Limits',
    kind: 'integer',
    default: 32,
    min: 2,
    max: 1000,
    description: 'Nesting of any value in the variables or a literal (deeper is `BAD_USER_INPUT`).',
  },
  RATE_LIMIT_PER_MINUTE: {
    group: 'Limits',
    kind: 'integer',
    min: 0,
    // The limiters remember one timestamp per call in the window; GATEWAY_TOKENS' `token:N` shares this bound.
    max: 1_000_000,
    defaultText: 'unset (no limit)',
    description:
      'Upstream calls one caller (gateway token, or pass-through key) may start in any 60 s; 0 is no limit. Without tokens, all callers are one.',
  },

  IDEMPOTENCY_TTL_MS: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    default: 24 * HOUR_MS,
    min: 1000,
    max: 30 * 24 * HOUR_MS,
    unit: 'ms',
    description: 'How long an `idempotencyKey` is remembered.',
  },
  IDEMPOTENCY_MAX_KEYS: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    default: 100_000,
    min: 1,
    max: 10_000_000,
    description:
      'Most keys one instance remembers in memory; when full, new keys are `RATE_LIMITED`, none is evicted. Not used with `REDIS_URL`.',
  },
  IDEMPOTENCY_KEYS_PER_CALLER: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    description:
      'Keys one caller may have remembered at once, never more than `IDEMPOTENCY_MAX_KEYS`; past it that caller’s keyed creates are `RATE_LIMITED`.',
  },
  MAX_THREADS_PER_CALLER: {
    group: 'Limits',
    kind: 'integer',
    default: 100_000,
    min: 1,
    max: 100_000_000,
    description:
      'Entries one caller’s thread list (`viewer.threads`) holds at most; past it `createThread` still creates, and its answer says in `extensions.warnings` that the list is full.',
  },
  IDEMPOTENCY_MAX_BYTES: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    default: 64 * MiB,
    min: MiB,
    max: 64 * GiB,
    unit: 'bytes',
    description:
      'Bytes of remembered results one instance keeps in memory; each caller may hold the same share as of the keys. Not used with `REDIS_URL`.',
  },
  IDEMPOTENCY_CLAIM_MS: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    min: 100,
    max: HOUR_MS,
    unit: 'ms',
    defaultText: '`REQUEST_DEADLINE_MS` (`UPSTREAM_TIMEOUT_MS` when `UPSTREAM_MAX_RETRIES=0`)',
    description:
      'How long a create in progress holds its key unless renewed; never shorter than a create may take (start-up stops otherwise).',
  },
  REDIS_URL: {
    group: 'Idempotency & Redis',
    kind: 'url',
    schemes: ['redis', 'rediss'],
    format: 'a URL like redis://127.0.0.1:6379/0',
    parse: true,
    description:
      'Idempotency keys, rate limits, APQ documents, run event logs, leases and thread events in Redis, shared by every instance. Unset: in memory, **per instance**.',
  },
  REDIS_KEY_PREFIX: {
    group: 'Idempotency & Redis',
    kind: 'string',
    default: 'tgw:',
    description: 'Prefix of every key the gateway writes in Redis.',
  },
  REDIS_TIMEOUT_MS: {
    group: 'Idempotency & Redis',
    kind: 'integer',
    default: 500,
    min: 10,
    max: 60_000,
    unit: 'ms',
    description:
      'The longest one Redis command (or a wait for a connection) may take; nothing queues while Redis is down.',
  },

  TRUSTED_DOCUMENTS: {
    group: 'Persisted documents',
    kind: 'string',
    description:
      'Path of a manifest (codegen\'s `{ "sha256:<hex>": document }` or Apollo\'s format): only its documents execute, by hash or exact text; anything else is `TRUSTED_DOCUMENT_REQUIRED` before parsing.',
  },
  ALLOW_INTROSPECTION: {
    group: 'Persisted documents',
    kind: 'boolean',
    default: true,
    defaultText: '`true` (`false` with `TRUSTED_DOCUMENTS`)',
    description:
      'Serve `__schema` and `__type` (otherwise `INTROSPECTION_DISABLED`, or `TRUSTED_DOCUMENT_REQUIRED` with `TRUSTED_DOCUMENTS`).',
  },
  APQ_MAX_ENTRIES: {
    group: 'Persisted documents',
    kind: 'integer',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    description:
      'Documents automatic persisted queries remember, per instance and in Redis with `REDIS_URL`; 0 turns APQ off.',
  },
  APQ_MAX_BYTES: {
    group: 'Persisted documents',
    kind: 'integer',
    default: 32 * 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
    unit: 'bytes',
    description: 'Bytes of those documents; a larger single document is never stored.',
  },
  APQ_TTL_MS: {
    group: 'Persisted documents',
    kind: 'integer',
    default: 24 * 60 * 60 * 1000,
    min: 1000,
    max: 30 * 24 * 60 * 60 * 1000,
    unit: 'ms',
    description: "A document unused this long is forgotten (also the Redis keys' TTL).",
  },
  LOG_LEVEL: {
    group: 'Observability',
    kind: 'enum',
    choices: ['silent', 'error', 'warn', 'info', 'debug'],
    default: 'info',
    description: 'The least severe log lines written.',
  },
  METRICS_OPERATIONS: {
    group: 'Observability',
    kind: 'list',
    description: 'Operation names that get their own metrics label; when set, all others count as `other`.',
  },
} as const satisfies Record<string, Variable>;
