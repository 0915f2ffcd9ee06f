import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode, GatewayError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { SharedStateUnavailable } from '../redis/redis-connection.ts';

/** What is remembered for one (caller, idempotencyKey). */
export type IdempotencyRecord =
  /** What the key created (a thread, a message), as the upstream returned it: JSON. */
  | { state: 'created'; fingerprint: string; value: unknown }
  /** A create whose outcome the upstream left unknown; the next try resends the same upstream key. */
  | { state: 'unknown'; fingerprint: string };

/** One (caller, key) as a store addresses it. */
export interface IdempotencySlot {
  /** Whose quota the key counts against. */
  readonly callerId: string;
  /** A hash of the caller and the key: the key itself is never stored. */
  readonly key: string;
}

/** A claim on a slot: only its holder creates; it expires unless renewed, so a crashed holder frees it. */
export interface IdempotencyClaim {
  /** Unique to one attempt. */
  readonly token: string;
  /** The input's fingerprint, so a concurrent different input is refused without waiting. */
  readonly fingerprint: string;
  readonly ms: number;
}

/**
 * A claim as its holder settles it: `generation` is the fencing token the store handed out with it.
 * Every new claim on a slot gets a larger one, and a settle only stores when the slot's generation
 * is still this one, so a holder whose claim expired can never store over the next holder's.
 */
export interface HeldClaim extends IdempotencyClaim {
  readonly generation: number;
}

export type ClaimOutcome =
  /**
   * The caller holds the claim, as generation `generation`, and must create (then settle or
   * release); `record` is an earlier unknown outcome.
   */
  | { kind: 'claimed'; generation: number; record?: IdempotencyRecord }
  /** Already created: its record. */
  | { kind: 'settled'; record: Extract<IdempotencyRecord, { state: 'created' }> }
  /** Another attempt holds the claim, for this input fingerprint. */
  | { kind: 'held'; fingerprint: string }
  /** The caller has as many keys remembered as it may (or, in memory, the whole store is full). */
  | { kind: 'quota'; reason: QuotaReason; limit: number; retryAfterSeconds: number };

/** Which bound refused a new key: a caller's keys or bytes, or the whole in-memory store's. */
export type QuotaReason = 'caller' | 'store' | 'caller-bytes' | 'store-bytes';

/**
 * Where idempotency records and claims live: in memory for one instance, in Redis for several
 * (`./redis-store.ts`). Every method is atomic on its own; a store that
 * cannot answer throws `SharedStateUnavailable`.
 */
export interface IdempotencyStore {
  /** Returns the record when created; else claims the slot for `claim`, counted against the caller's quota. */
  claim(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<ClaimOutcome>;
  /** Extends a claim still held by `claim.token`; false when it was lost. */
  renew(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<boolean>;
  /**
   * Remembers the outcome for the TTL and drops the claim, atomically, only if the slot's claim
   * generation is still `claim.generation`; a created record is never overwritten. True when the
   * record was stored: it is then the key's one answer.
   */
  settle(slot: IdempotencySlot, claim: HeldClaim, record: IdempotencyRecord): Promise<boolean>;
  /** Drops the claim after a definite failure; the slot stops counting unless it has a record. */
  release(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<void>;
}

interface MemoryEntry {
  callerId: string;
  /** The remembered record's size (its value as JSON), counted against the byte bounds. */
  bytes?: number;
  record?: IdempotencyRecord;
  /** When the record expires (or, with no record yet, the claim). */
  expiresAt: number;
  claim?: { token: string; fingerprint: string; until: number };
  /** The generation of the slot's latest claim (the fencing token). */
  generation?: number;
}

function live(entry: MemoryEntry, now: number): boolean {
  return (
    (entry.record !== undefined && entry.expiresAt > now) || (entry.claim !== undefined && entry.claim.until > now)
  );
}

/**
 * Bounded, expiring, in memory, for one instance. Each caller may hold `perCaller` keys and the
 * store `maxEntries` in all; past either, new keys are refused, never another caller's evicted.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** In order of last write, which is expiry order for records (one TTL for all). */
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #byCaller = new Map<string, Set<string>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #perCaller: number;
  /**
   * Records hold what the key created (a message of up to 256,000 characters), so a count of keys
   * alone does not bound memory: bytes are bounded too, for the store and, in the same proportion
   * as keys, for each caller.
   */
  readonly #maxBytes: number;
  readonly #perCallerBytes: number;
  readonly #bytesByCaller = new Map<string, number>();
  #bytes = 0;
  /** One counter for every slot: a generation is never handed out twice, even after its entry is gone. */
  #generations = 0;

  constructor({
    ttlMs,
    maxEntries,
    perCaller = maxEntries,
    maxBytes = Number.POSITIVE_INFINITY,
  }: { ttlMs: number; maxEntries: number; perCaller?: number; maxBytes?: number }) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#perCaller = Math.min(perCaller, maxEntries);
    this.#maxBytes = maxBytes;
    this.#perCallerBytes = Math.floor(maxBytes * (this.#perCaller / maxEntries));
  }

  /** Bytes of records held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  async claim(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<ClaimOutcome> {
    const now = Date.now();
    let entry = this.#entries.get(slot.key);
    if (entry && !live(entry, now)) {
      this.#forget(slot.key, entry);
      entry = undefined;
    }
    if (entry?.record?.state === 'created') return { kind: 'settled', record: entry.record };
    if (entry?.claim && entry.claim.until > now) return { kind: 'held', fingerprint: entry.claim.fingerprint };
    if (!entry) {
      const refused = this.#roomFor(slot.callerId, now);
      if (refused) return refused;
      entry = { callerId: slot.callerId, expiresAt: now + claim.ms };
      this.#remember(slot.key, entry);
    }
    entry.claim = { token: claim.token, fingerprint: claim.fingerprint, until: now + claim.ms };
    const generation = ++this.#generations;
    entry.generation = generation;
    if (!entry.record) entry.expiresAt = now + claim.ms;
    return entry.record ? { kind: 'claimed', generation, record: entry.record } : { kind: 'claimed', generation };
  }

  async renew(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<boolean> {
    const entry = this.#entries.get(slot.key);
    if (!entry?.claim || entry.claim.token !== claim.token) return false;
    entry.claim.until = Date.now() + claim.ms;
    if (!entry.record) entry.expiresAt = entry.claim.until;
    return true;
  }

  async settle(slot: IdempotencySlot, claim: HeldClaim, record: IdempotencyRecord): Promise<boolean> {
    const existing = this.#entries.get(slot.key);
    if (existing?.claim?.token === claim.token) delete existing.claim;
    // Another claim was made since this one: its holder's outcome is the key's, not this one.
    if (existing?.generation !== undefined && existing.generation !== claim.generation) return false;
    if (existing?.record?.state === 'created' && live(existing, Date.now())) return false;
    if (existing) this.#forget(slot.key, existing);
    const bytes = record.state === 'created' ? Buffer.byteLength(JSON.stringify(record.value) ?? '') : 0;
    this.#remember(slot.key, {
      callerId: slot.callerId,
      record,
      bytes,
      expiresAt: Date.now() + this.#ttlMs,
      generation: claim.generation,
    });
    return true;
  }

  async release(slot: IdempotencySlot, claim: IdempotencyClaim): Promise<void> {
    const entry = this.#entries.get(slot.key);
    if (!entry || entry.claim?.token !== claim.token) return;
    delete entry.claim;
    if (!entry.record) this.#forget(slot.key, entry);
  }

  /** Refuses a new key past the caller's quota or the store's size, after dropping what expired. */
  #roomFor(callerId: string, now: number): ClaimOutcome | undefined {
    const own = this.#byCaller.get(callerId);
    const callerBytes = () => this.#bytesByCaller.get(callerId) ?? 0;
    if (own && (own.size >= this.#perCaller || callerBytes() >= this.#perCallerBytes)) {
      this.#sweep(own, now);
      if (own.size >= this.#perCaller) return this.#refusal('caller', this.#perCaller, own, now);
      if (callerBytes() >= this.#perCallerBytes) return this.#refusal('caller-bytes', this.#perCallerBytes, own, now);
    }
    if (this.#entries.size >= this.#maxEntries || this.#bytes >= this.#maxBytes) {
      this.#sweep(this.#entries.keys(), now);
      if (this.#entries.size >= this.#maxEntries) {
        return this.#refusal('store', this.#maxEntries, this.#entries.keys(), now);
      }
      if (this.#bytes >= this.#maxBytes) return this.#refusal('store-bytes', this.#maxBytes, this.#entries.keys(), now);
    }
    return undefined;
  }

  /** Drops expired entries from the oldest on, stopping at the first live one (expiry follows write order). */
  #sweep(keys: Iterable<string>, now: number): void {
    // Deleting the visited entry while iterating a Map or Set is safe.
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry && live(entry, now)) break;
      if (entry) this.#forget(key, entry);
    }
  }

  #refusal(reason: QuotaReason, limit: number, keys: Iterable<string>, now: number): ClaimOutcome {
    let oldest = now + this.#ttlMs;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry) oldest = Math.max(entry.expiresAt, entry.claim?.until ?? 0);
      break;
    }
    return { kind: 'quota', reason, limit, retryAfterSeconds: Math.max(1, Math.ceil((oldest - now) / 1000)) };
  }

  #remember(key: string, entry: MemoryEntry): void {
    this.#entries.set(key, entry);
    let own = this.#byCaller.get(entry.callerId);
    if (!own) {
      own = new Set();
      this.#byCaller.set(entry.callerId, own);
    }
    own.add(key);
    if (entry.bytes) {
      this.#bytes += entry.bytes;
      this.#bytesByCaller.set(entry.callerId, (this.#bytesByCaller.get(entry.callerId) ?? 0) + entry.bytes);
    }
  }

  #forget(key: string, entry: MemoryEntry): void {
    this.#entries.delete(key);
    const own = this.#byCaller.get(entry.callerId);
    own?.delete(key);
    if (own?.size === 0) this.#byCaller.delete(entry.callerId);
    if (entry.bytes) {
      this.#bytes -= entry.bytes;
      const left = (this.#bytesByCaller.get(entry.callerId) ?? 0) - entry.bytes;
      if (left > 0) this.#bytesByCaller.set(entry.callerId, left);
      else this.#bytesByCaller.delete(entry.callerId);
    }
  }
}

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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
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
          await sleep(pollMs);
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
