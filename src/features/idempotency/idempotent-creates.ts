import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, GatewayError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { SharedStateUnavailable } from '../redis/redis-connection.ts';
import type {
  ClaimOutcome,
  HeldClaim,
  IdempotencyClaim,
  IdempotencySlot,
  IdempotencyStore,
  QuotaReason,
} from './idempotency-store.ts';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface IdempotentCreatesOptions {
  /** How long a claim lives without renewal: a crashed holder's key is free again after this (10 s). */
  claimMs?: number;
  /** How long a try waits for another instance's create when no deadline is given (30 s). */
  waitMs?: number;
  /** Which store answers, for the message when it cannot: `"redis"` or `"memory"`. */
  storeName?: string;
  /** Where a lost claim is reported (a create that may have been made twice upstream). */
  logger?: Logger;
}

/**
 * Creates with an idempotencyKey: the same key from the same caller within the TTL returns what it
 * first created. Concurrent tries with one key share a single upstream create: in one instance they
 * share its promise; across instances (a Redis store) one holds an expiring claim while the others
 * poll for its outcome. The key also goes upstream as `Idempotency-Key` (scoped to the caller), so
 * when a first try's outcome was unknown, the retry lets an upstream that honours it return what it made.
 */
export class IdempotentCreates {
  readonly #store: IdempotencyStore;
  readonly #claimMs: number;
  readonly #waitMs: number;
  readonly #storeName: string;
  readonly #logger: Logger | undefined;
  readonly #running = new Map<string, { fingerprint: string; result: Promise<unknown> }>();

  constructor(store: IdempotencyStore, options: IdempotentCreatesOptions = {}) {
    this.#store = store;
    this.#claimMs = options.claimMs ?? 10_000;
    this.#waitMs = options.waitMs ?? 30_000;
    this.#storeName = options.storeName ?? 'memory';
    this.#logger = options.logger;
  }

  /**
   * Runs `create` at most once per (caller, key) within the TTL and returns its result (which must
   * be JSON: a shared store keeps it as JSON). `deadline` (epoch ms) bounds the wait for another try.
   * `scope` keeps one operation's keys apart from another's (e.g. `message:<threadId>`); keys of all
   * scopes count against the caller's one quota.
   */
  run<T>(
    callerId: string,
    key: string,
    params: unknown,
    create: (upstreamKey: string) => Promise<T>,
    options: { deadline?: number; scope?: string } = {},
  ): Promise<T> {
    const scoped = options.scope === undefined ? key : `${options.scope}\u0000${key}`;
    const slot: IdempotencySlot = { callerId, key: sha256(`${callerId}\u0000${scoped}`) };
    const fingerprint = sha256(canonical(params));
    const running = this.#running.get(slot.key);
    if (running) {
      if (running.fingerprint !== fingerprint) return Promise.reject(conflict());
      return running.result as Promise<T>;
    }
    const deadline = options.deadline ?? Date.now() + this.#waitMs;
    const result = this.#attempt(slot, fingerprint, create, deadline).finally(() => this.#running.delete(slot.key));
    this.#running.set(slot.key, { fingerprint, result });
    return result;
  }

  async #attempt<T>(
    slot: IdempotencySlot,
    fingerprint: string,
    create: (upstreamKey: string) => Promise<T>,
    deadline: number,
  ): Promise<T> {
    const claim: IdempotencyClaim = { token: randomUUID(), fingerprint, ms: this.#claimMs };
    let pollMs = 20;
    for (;;) {
      const asked = Date.now();
      const outcome = await this.#ask(() => this.#store.claim(slot, claim)).catch((error: unknown) => {
        // A claim that timed out may still run once the store answers again: drop it then, so it
        // does not hold the key for a whole claim's life (only ours is dropped, never another's).
        void this.#store.release(slot, claim).catch(() => undefined);
        throw error;
      });
      switch (outcome.kind) {
        case 'settled':
          if (outcome.record.fingerprint !== fingerprint) throw conflict();
          return outcome.record.value as T;
        case 'quota':
          throw quotaExceeded(outcome);
        case 'held':
          if (outcome.fingerprint !== fingerprint) throw conflict();
          if (Date.now() + pollMs >= deadline) throw stillRunning();
          await sleep(pollMs, undefined, { ref: false });
          pollMs = Math.min(pollMs * 2, 200);
          continue;
        case 'claimed':
          if (outcome.record && outcome.record.fingerprint !== fingerprint) {
            await this.#store.release(slot, claim).catch(() => undefined);
            throw conflict();
          }
          return this.#createHolding(slot, { ...claim, generation: outcome.generation }, asked + claim.ms, create);
      }
    }
  }

  /**
   * Creates while holding the claim, renewing it so that only a crashed holder loses it. A claim
   * that could not be renewed (the store said another holder may have it) or whose settle was
   * fenced off is lost: another holder may have created under the same key, so this try's outcome
   * is reported as unknown, never as a second "created", and logged. `heldUntil` is when the claim
   * may expire at the earliest, as far as this holder knows.
   */
  async #createHolding<T>(
    slot: IdempotencySlot,
    claim: HeldClaim,
    heldUntil: number,
    create: (upstreamKey: string) => Promise<T>,
  ): Promise<T> {
    let lost = false;
    let until = heldUntil;
    const renew = (): void => {
      const sent = Date.now();
      this.#store.renew(slot, claim).then(
        (held) => {
          if (held) until = Math.max(until, sent + claim.ms);
          else lost = true;
        },
        // Unanswered is not lost: the settle's fencing decides, or `until` if the store stays away.
        () => undefined,
      );
    };
    const renewal = setInterval(renew, claim.ms / 3);
    renewal.unref();
    let value: T;
    try {
      value = await create(`gw-${slot.key.slice(0, 48)}`);
    } catch (error) {
      clearInterval(renewal);
      // A store that fails here cannot make things worse: the claim expires, and a retry resends
      // the same upstream key. A fenced settle stores nothing, which is right for a lost claim.
      if (error instanceof GatewayError && error.extensions.outcome === 'unknown') {
        await this.#store
          .settle(slot, claim, { state: 'unknown', fingerprint: claim.fingerprint })
          .catch(() => undefined);
      } else {
        await this.#store.release(slot, claim).catch(() => undefined);
      }
      throw error;
    }
    clearInterval(renewal);
    // Renewals answer in order on the store's connection, so any that was sent is known by now.
    const stored = await this.#store
      .settle(slot, claim, { state: 'created', fingerprint: claim.fingerprint, value })
      .catch(() => undefined);
    // Created and the key's answer; or the store cannot remember it now but the claim is still
    // surely held, so no one else can have created (the caller has its id either way).
    if (!lost && (stored === true || (stored === undefined && Date.now() < until))) return value;
    const id = (value as { id?: unknown } | null)?.id;
    this.#logger?.error('idempotency claim lost while creating: outcome reported as unknown', {
      store: this.#storeName,
      slot: slot.key.slice(0, 16),
      generation: claim.generation,
      reason: lost
        ? 'renewal refused'
        : stored === false
          ? 'fenced by a newer claim'
          : 'store unreachable past the claim',
      ...(typeof id === 'string' ? { created: id } : {}),
    });
    throw claimLost(this.#storeName);
  }

  /** A store that cannot answer means no create: the key's protection is never skipped. */
  async #ask<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SharedStateUnavailable)) throw error;
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `The idempotency store (${this.#storeName}) is unreachable, so a create with an idempotencyKey was not attempted; retry later with the same key.`,
        { extensions: { store: this.#storeName, outcome: 'not_created' }, cause: error },
      );
    }
  }
}

function conflict(): GatewayError {
  return new GatewayError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    'input.idempotencyKey was already used with a different input; use a new key for a new thread.',
    { extensions: { argument: 'input.idempotencyKey' } },
  );
}

const QUOTA_TEXT: Record<QuotaReason, { reason: string; what: (limit: number) => string }> = {
  caller: {
    reason: 'IDEMPOTENCY_KEYS_PER_CALLER',
    what: (limit) => `This caller already has ${limit} idempotency keys remembered (IDEMPOTENCY_KEYS_PER_CALLER)`,
  },
  'caller-bytes': {
    reason: 'IDEMPOTENCY_BYTES_PER_CALLER',
    what: (limit) =>
      `This caller's remembered idempotency results hold ${limit} bytes, its share of IDEMPOTENCY_MAX_BYTES`,
  },
  store: {
    reason: 'IDEMPOTENCY_MAX_KEYS',
    what: (limit) => `The idempotency store is full (IDEMPOTENCY_MAX_KEYS = ${limit})`,
  },
  'store-bytes': {
    reason: 'IDEMPOTENCY_MAX_BYTES',
    what: (limit) => `The idempotency store is full (IDEMPOTENCY_MAX_BYTES = ${limit})`,
  },
};

function quotaExceeded(outcome: Extract<ClaimOutcome, { kind: 'quota' }>): GatewayError {
  const text = QUOTA_TEXT[outcome.reason];
  const message = `${text.what(outcome.limit)}; a new key is refused until one expires. Creates without a key are not affected.`;
  return new GatewayError(ErrorCode.RATE_LIMITED, message, {
    extensions: {
      reason: text.reason,
      limit: outcome.limit,
      retryAfter: outcome.retryAfterSeconds,
      outcome: 'not_created',
    },
  });
}

function claimLost(store: string): GatewayError {
  return new GatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    `The claim on this idempotencyKey was lost while creating (the idempotency store (${store}) did not keep it), so another try may have created under the same key; retry with the same key to get the key's one result.`,
    { extensions: { store, reason: 'IDEMPOTENCY_CLAIM_LOST', outcome: 'unknown', retryAfter: 1 } },
  );
}

function stillRunning(): GatewayError {
  return new GatewayError(
    ErrorCode.UPSTREAM_TIMEOUT,
    'Another try with this idempotencyKey is still creating; retry with the same key to get its result.',
    { extensions: { reason: 'IDEMPOTENCY_KEY_IN_USE', outcome: 'unknown', retryAfter: 1 } },
  );
}
