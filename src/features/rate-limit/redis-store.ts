import { createHash, randomUUID } from 'node:crypto';
import { luaScript, type RedisConnection } from '../redis/redis-connection.ts';
import type { RateDecision, RateLimitStore } from './rate-limiter.ts';

/**
 * The sliding-window log, atomically: drop what left the window, refuse when full (not counting
 * the refused call), else log this call. KEYS: the caller's log (a sorted set of call times in ms,
 * Redis's own clock). ARGV: limit, window ms, a member unique to this call.
 */
const TAKE = luaScript(
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}`,
  1,
);

/** Per-caller rate limits in Redis, shared by every instance with the same REDIS_URL and prefix. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: RedisConnection;
  readonly #instance = randomUUID();
  #sequence = 0;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    redis.register(TAKE);
  }

  async take(callerId: string, limit: number, windowMs: number): Promise<RateDecision> {
    const caller = createHash('sha256').update(callerId).digest('hex').slice(0, 32);
    const reply = await this.#redis.eval(
      TAKE,
      [`${this.#redis.keyPrefix}rate:{${caller}}`],
      [limit, windowMs, `${this.#instance}:${++this.#sequence}`],
    );
    const [allowed, retryAfterMs] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Number(retryAfterMs) || windowMs };
  }
}
