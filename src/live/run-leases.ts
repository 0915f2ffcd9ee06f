import { luaScript, type RedisConnection } from '../features/redis/redis-connection.ts';

/**
 * Who produces a run's events (docs/live.md). One producer per run: the instance that holds its
 * lease, renewed while it produces; when that instance dies the lease runs out and another
 * instance's subscriber takes the run over. Appends are fenced too (RunEventLog.append writes at an
 * exact place), so even a producer that lost its lease without knowing cannot write twice.
 */
export interface RunLeases {
  /** Takes the run's lease for `owner`, unless another owner holds it. */
  acquire(runId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease while `owner` still holds it; false when it is lost. */
  renew(runId: string, owner: string, ttlMs: number): Promise<boolean>;
  release(runId: string, owner: string): Promise<void>;
}

export class MemoryRunLeases implements RunLeases {
  readonly #held = new Map<string, { owner: string; until: number }>();

  async acquire(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    const lease = this.#held.get(runId);
    if (lease && lease.owner !== owner && lease.until > Date.now()) return false;
    this.#held.set(runId, { owner, until: Date.now() + ttlMs });
    return true;
  }

  async renew(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    const lease = this.#held.get(runId);
    if (!lease || lease.owner !== owner) return false;
    lease.until = Date.now() + ttlMs;
    return true;
  }

  async release(runId: string, owner: string): Promise<void> {
    if (this.#held.get(runId)?.owner === owner) this.#held.delete(runId);
  }
}

const RENEW = luaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  1,
);
const RELEASE = luaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  1,
);

export class RedisRunLeases implements RunLeases {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    redis.register(RENEW, RELEASE);
  }

  #key(runId: string): string {
    return `${this.#redis.keyPrefix}live:lease:${runId}`;
  }

  async acquire(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    const set = await this.#redis.run((client) => client.set(this.#key(runId), owner, 'PX', ttlMs, 'NX'));
    return set === 'OK';
  }

  async renew(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(RENEW, [this.#key(runId)], [owner, ttlMs])) === 1;
  }

  async release(runId: string, owner: string): Promise<void> {
    await this.#redis.eval(RELEASE, [this.#key(runId)], [owner]);
  }
}
