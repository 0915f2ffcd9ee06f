import { createHash } from 'node:crypto';
import { luaScript, type RedisConnection, SharedStateUnavailable } from '../redis/redis-connection.ts';
import type {
  ClaimOutcome,
  HeldClaim,
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencySlot,
  IdempotencyStore,
} from './idempotency-store.ts';

// Keys of one caller share a hash slot ({…}), so each script touches one slot. Every script reads
// the clock from Redis (TIME), so instances with skewed clocks agree on expiry.
// KEYS: the record, the claim, the caller's key set (a sorted set: slot key -> expiry in ms), the
// slot's claim generation (the fencing token: INCR on every claim, checked by SETTLE). The
// generation lives as long as a record plus a claim, far longer than any holder's create.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** ARGV: claim value, claim ms, the caller's quota, ttl ms, slot key. Claimed: its generation. */
const CLAIM = luaScript(
  `${NOW}
local record = redis.call('GET', KEYS[1])
if record and cjson.decode(record)['state'] == 'created' then return {'settled', record} end
local holder = redis.call('GET', KEYS[2])
if holder then return {'held', holder} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if not record and not redis.call('ZSCORE', KEYS[3], ARGV[5]) then
  local count = redis.call('ZCARD', KEYS[3])
  if count >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {'quota', tostring(tonumber(oldest[2]) - now)}
  end
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
local generation = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[4]) + tonumber(ARGV[2]))
if record then return {'claimed', tostring(generation), record} end
return {'claimed', tostring(generation)}`,
  4,
);

/** KEYS: the claim, the key set. ARGV: claim value, claim ms, slot key. */
const RENEW = luaScript(
  `${NOW}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', 'GT', now + tonumber(ARGV[2]), ARGV[3])
return 1`,
  2,
);

/**
 * ARGV: claim value, record JSON, ttl ms, slot key, the claim's generation. Stores only while the
 * slot's generation is still the claim's (no newer claim was made), and never over a created
 * record: two holders can never both store an answer for one key. 1 when stored.
 */
const SETTLE = luaScript(
  `${NOW}
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
local generation = redis.call('GET', KEYS[4])
if generation and generation ~= ARGV[5] then return 0 end
local record = redis.call('GET', KEYS[1])
if record and cjson.decode(record)['state'] == 'created' then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1`,
  4,
);

/** ARGV: claim value, slot key. */
const RELEASE = luaScript(
  `if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[3], ARGV[2]) end
return 1`,
  3,
);

function parseRecord(text: string): IdempotencyRecord {
  const parsed = JSON.parse(text) as IdempotencyRecord;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.fingerprint !== 'string') {
    throw new SharedStateUnavailable('an idempotency record in Redis is not one this gateway wrote');
  }
  return parsed;
}

/**
 * The idempotency store in Redis, shared by every gateway instance with the same REDIS_URL and
 * REDIS_KEY_PREFIX. A record lives for the TTL; a claim (SET NX-like, with PX) for `claim.ms`
 * unless its holder renews it; each caller's keys are counted in a sorted set by expiry, which is
 * the per-caller quota (there is no global bound: Redis's own `maxmemory` is that).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: RedisConnection;
  readonly #ttlMs: number;
  readonly #perCaller: number;

  constructor(redis: RedisConnection, { ttlMs, perCaller }: { ttlMs: number; perCaller: number }) {
    this.#redis = redis;
    redis.register(CLAIM, RENEW, SETTLE, RELEASE);
    this.#ttlMs = ttlMs;
    this.#perCaller = perCaller;
  }

  async claim(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<ClaimOutcome> {
    const reply = await this.#redis.eval(CLAIM, this.#keys(slot), [
      `${claim.token} ${claim.fingerprint}`,
      claim.ms,
      this.#perCaller,
      this.#ttlMs,
      slot.key,
    ]);
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw unexpected();
    const [kind, detail, claimedRecord] = reply as [string, unknown, unknown];
    switch (kind) {
      case 'settled': {
        const record = parseRecord(String(detail));
        if (record.state !== 'created') throw unexpected();
        return { kind: 'settled', record };
      }
      case 'held':
        return { kind: 'held', fingerprint: String(detail).split(' ')[1] ?? '' };
      case 'quota':
        return {
          kind: 'quota',
          reason: 'caller',
          limit: this.#perCaller,
          retryAfterSeconds: Math.max(1, Math.ceil(Number(detail) / 1000)),
        };
      case 'claimed': {
        const generation = Number(detail);
        if (!Number.isSafeInteger(generation)) throw unexpected();
        return claimedRecord === undefined
          ? { kind: 'claimed', generation }
          : { kind: 'claimed', generation, record: parseRecord(String(claimedRecord)) };
      }
      default:
        throw unexpected();
    }
  }

  async renew(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<boolean> {
    const [, claimKey, callerKeys] = this.#keys(slot);
    const reply = await this.#redis.eval(
      RENEW,
      [claimKey, callerKeys],
      [`${claim.token} ${claim.fingerprint}`, claim.ms, slot.key],
    );
    return reply === 1;
  }

  async settle(slot: IdempotencySlot, claim: HeldClaim, record: IdempotencyRecord): Promise<boolean> {
    const reply = await this.#redis.eval(SETTLE, this.#keys(slot), [
      `${claim.token} ${claim.fingerprint}`,
      JSON.stringify(record),
      this.#ttlMs,
      slot.key,
      claim.generation,
    ]);
    return reply === 1;
  }

  async release(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<void> {
    const [record, claimKey, callerKeys] = this.#keys(slot);
    await this.#redis.eval(RELEASE, [record, claimKey, callerKeys], [`${claim.token} ${claim.fingerprint}`, slot.key]);
  }

  /** The record, the claim, the caller's key set, the slot's claim generation: one hash slot. */
  #keys(slot: IdempotencySlot): [string, string, string, string] {
    const caller = createHash('sha256').update(slot.callerId).digest('hex').slice(0, 32);
    const prefix = this.#redis.keyPrefix;
    return [
      `${prefix}idem:{${caller}}:${slot.key}`,
      `${prefix}idem-claim:{${caller}}:${slot.key}`,
      `${prefix}idem-keys:{${caller}}`,
      `${prefix}idem-gen:{${caller}}:${slot.key}`,
    ];
  }
}

function unexpected(): SharedStateUnavailable {
  return new SharedStateUnavailable('Redis answered an idempotency script unexpectedly');
}
