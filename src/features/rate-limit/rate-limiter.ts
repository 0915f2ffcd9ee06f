import { ErrorCode, GatewayError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { SharedStateUnavailable } from '../redis/redis-connection.ts';

/** The window every limit counts over: a limit of N allows N upstream calls in any 60 s. */
export const RATE_WINDOW_MS = 60_000;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Counts one caller's upstream calls over a sliding window (a log of call times: exact, so at most
 * `limit` calls start in any `windowMs`). A refused call is not counted. A store that cannot answer
 * throws `SharedStateUnavailable`.
 */
export interface RateLimitStore {
  take(callerId: string, limit: number, windowMs: number): Promise<RateDecision>;
}

/** The sliding-window log in memory, for one instance. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #logs = new Map<string, number[]>();
  #sweptAt = Date.now();

  async take(callerId: string, limit: number, windowMs: number): Promise<RateDecision> {
    return this.takeNow(callerId, limit, windowMs);
  }

  /** Synchronous, so that concurrent calls of one instance cannot both see room for one more. */
  takeNow(callerId: string, limit: number, windowMs: number): RateDecision {
    const now = Date.now();
    this.#sweep(now, windowMs);
    let log = this.#logs.get(callerId);
    if (!log) {
      log = [];
      this.#logs.set(callerId, log);
    }
    let expired = 0;
    while (expired < log.length && (log[expired] ?? now) <= now - windowMs) expired++;
    if (expired > 0) log.splice(0, expired);
    if (log.length >= limit) return { allowed: false, retryAfterMs: (log[0] ?? now) + windowMs - now };
    log.push(now);
    return { allowed: true };
  }

  /** Forgets callers idle for a whole window, at most once a window, so many callers cannot grow it forever. */
  #sweep(now: number, windowMs: number): void {
    if (now - this.#sweptAt < windowMs) return;
    this.#sweptAt = now;
    for (const [callerId, log] of this.#logs) {
      const last = log[log.length - 1];
      if (last === undefined || last <= now - windowMs) this.#logs.delete(callerId);
    }
  }
}

/**
 * Per-caller limits on upstream calls (RATE_LIMIT_PER_MINUTE, or a token's own). Counted in the
 * store (Redis when REDIS_URL is set, shared by every instance); while that store is unreachable,
 * each instance counts in memory instead, so an outage of the shared state never stops the traffic
 * it only limits.
 */
export class RateLimiter {
  readonly #store: RateLimitStore;
  readonly #fallback: MemoryRateLimitStore;
  readonly #logger: Logger | undefined;
  #degraded = false;
  /** After a failure the store is left alone for a second, so a hung Redis delays one call a second, not all. */
  #skipUntil = 0;

  constructor(store: RateLimitStore, logger?: Logger) {
    this.#store = store;
    this.#fallback = store instanceof MemoryRateLimitStore ? store : new MemoryRateLimitStore();
    this.#logger = logger;
  }

  /** The admission check for one caller's upstream calls, or undefined when it has no limit. */
  forCaller(callerId: string, perMinute: number | undefined): (() => Promise<void>) | undefined {
    if (perMinute === undefined) return undefined;
    return () => this.admit(callerId, perMinute);
  }

  /** Counts one upstream call; throws RATE_LIMITED (nothing counted) when the caller is over its limit. */
  async admit(callerId: string, perMinute: number): Promise<void> {
    const decision = await this.#take(callerId, perMinute);
    if (decision.allowed) return;
    const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new GatewayError(
      ErrorCode.RATE_LIMITED,
      `Rate limit: at most ${perMinute} upstream calls per minute for this caller; retry after ${retryAfter} s.`,
      { extensions: { retryAfter, limit: perMinute } },
    );
  }

  async #take(callerId: string, perMinute: number): Promise<RateDecision> {
    if (this.#store === this.#fallback || Date.now() < this.#skipUntil) {
      return this.#fallback.takeNow(callerId, perMinute, RATE_WINDOW_MS);
    }
    try {
      const decision = await this.#store.take(callerId, perMinute, RATE_WINDOW_MS);
      if (this.#degraded) this.#logger?.warn('rate limits counted in Redis again');
      this.#degraded = false;
      return decision;
    } catch (error) {
      if (!(error instanceof SharedStateUnavailable)) throw error;
      if (!this.#degraded) {
        this.#logger?.error('rate limit store unreachable: counting per instance until it returns', {
          error: error.message,
        });
      }
      this.#degraded = true;
      this.#skipUntil = Date.now() + 1_000;
      return this.#fallback.takeNow(callerId, perMinute, RATE_WINDOW_MS);
    }
  }
}
