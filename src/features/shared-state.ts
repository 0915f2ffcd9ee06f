import type { Config } from '../config/config.ts';
import type { Logger } from '../logger.ts';
import type { IdempotencyStore } from './idempotency/idempotency-store.ts';
import { IdempotentCreates } from './idempotency/idempotent-creates.ts';
import { MemoryIdempotencyStore } from './idempotency/memory-store.ts';
import { RedisIdempotencyStore } from './idempotency/redis-store.ts';
import { PersistedQueries } from './persisted-documents/persisted-queries.ts';
import { RedisPersistedQueryStore } from './persisted-documents/redis-store.ts';
import { MemoryRateLimitStore, RateLimiter } from './rate-limit/rate-limiter.ts';
import { RedisRateLimitStore } from './rate-limit/redis-store.ts';
import { type DependencyVerdict, RedisConnection } from './redis/redis-connection.ts';

/** The state gateway instances share: idempotency keys, rate limits and APQ documents, in Redis or in memory. */
export interface SharedState {
  readonly idempotentCreates: IdempotentCreates;
  readonly rateLimiter: RateLimiter;
  /** The APQ registry; undefined when APQ is off (APQ_MAX_ENTRIES=0) or TRUSTED_DOCUMENTS is set. */
  readonly persistedQueries: PersistedQueries | undefined;
  /** `redis` or `memory`. */
  readonly kind: 'redis' | 'memory';
  /** The Redis connection the stores share, with REDIS_URL (live events use it too). */
  readonly redis: RedisConnection | undefined;
  /** For `/ready`: whether the shared store answers (always ok in memory). */
  check(): Promise<DependencyVerdict>;
  close(): Promise<void>;
}

export function createSharedState(
  config: Config,
  logger: Logger,
  options: { idempotencyStore?: IdempotencyStore } = {},
): SharedState {
  const redis = config.redisUrl
    ? new RedisConnection({
        url: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        timeoutMs: config.redisTimeoutMs,
        logger,
      })
    : undefined;
  const store =
    options.idempotencyStore ??
    (redis
      ? new RedisIdempotencyStore(redis, { ttlMs: config.idempotencyTtlMs, perCaller: config.idempotencyKeysPerCaller })
      : new MemoryIdempotencyStore({
          ttlMs: config.idempotencyTtlMs,
          maxEntries: config.idempotencyMaxKeys,
          perCaller: config.idempotencyKeysPerCaller,
          maxBytes: config.idempotencyMaxBytes,
        }));
  return {
    kind: redis ? 'redis' : 'memory',
    redis,
    idempotentCreates: new IdempotentCreates(store, {
      waitMs: config.requestDeadlineMs,
      claimMs: config.idempotencyClaimMs,
      storeName: options.idempotencyStore ? 'custom' : redis ? 'redis' : 'memory',
      logger,
    }),
    rateLimiter: new RateLimiter(redis ? new RedisRateLimitStore(redis) : new MemoryRateLimitStore(), logger),
    persistedQueries:
      config.apq.maxEntries === 0 || config.trustedDocuments
        ? undefined
        : new PersistedQueries(config.apq, redis && new RedisPersistedQueryStore(redis, config.apq), logger),
    check: () => (redis ? redis.check() : Promise.resolve({ ok: true, detail: 'in memory (per instance)' })),
    close: () => (redis ? redis.close() : Promise.resolve()),
  };
}
