import { luaScript, type RedisConnection } from '../redis/redis-connection.ts';
import type { PersistedQueryBounds, PersistedQueryStore } from './persisted-query-store.ts';

/**
 * The registered documents of every instance, in three keys of one hash slot: a hash of documents
 * (field: sha256, value: text), a sorted set of their last use (µs on Redis's own clock, made strictly
 * increasing so that uses in one microsecond keep their order) and the total
 * of their bytes. Bounded as in memory: past the entries or bytes, the least recently used go; a
 * document unused for the TTL goes; the keys themselves expire when nothing is registered or used.
 */
const CLOCK = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if latest[2] and tonumber(latest[2]) >= now then now = tonumber(latest[2]) + 1 end
local ttl = tonumber(ARGV[2]) * 1000
local function refresh()
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
`;

/** KEYS: documents, uses, bytes. ARGV: hash, ttl ms, text, max entries, max bytes. */
const REGISTER = luaScript(
  `${CLOCK}local function drop(hash)
  redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], hash))
  redis.call('HDEL', KEYS[1], hash)
  redis.call('ZREM', KEYS[2], hash)
end
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 100)) do drop(hash) end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 1 then
  redis.call('INCRBY', KEYS[3], string.len(ARGV[3]))
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
while redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[4]) or tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(ARGV[5]) do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    redis.call('SET', KEYS[3], 0)
    break
  end
  drop(oldest[1])
end
refresh()
return 1`,
  3,
);

/** KEYS: documents, uses, bytes. ARGV: hash, ttl ms. A hit counts as a use. */
const LOOKUP = luaScript(
  `${CLOCK}local used = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not used or tonumber(used) <= now - ttl then return false end
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return false end
redis.call('ZADD', KEYS[2], now, ARGV[1])
refresh()
return text`,
  3,
);

/** APQ documents in Redis, shared by every instance with the same REDIS_URL and REDIS_KEY_PREFIX. */
export class RedisPersistedQueryStore implements PersistedQueryStore {
  readonly #redis: RedisConnection;
  readonly #bounds: PersistedQueryBounds;
  readonly #keys: string[];

  constructor(redis: RedisConnection, bounds: PersistedQueryBounds) {
    this.#redis = redis;
    this.#bounds = bounds;
    const base = `${redis.keyPrefix}apq:{apq}:`;
    this.#keys = [`${base}documents`, `${base}uses`, `${base}bytes`];
    redis.register(REGISTER, LOOKUP);
  }

  async get(hash: string): Promise<string | undefined> {
    const text = await this.#redis.eval(LOOKUP, this.#keys, [hash, this.#bounds.ttlMs]);
    return typeof text === 'string' ? text : undefined;
  }

  async set(hash: string, text: string): Promise<void> {
    if (Buffer.byteLength(text, 'utf8') > this.#bounds.maxBytes) return;
    const { maxEntries, maxBytes, ttlMs } = this.#bounds;
    await this.#redis.eval(REGISTER, this.#keys, [hash, ttlMs, text, maxEntries, maxBytes]);
  }
}
