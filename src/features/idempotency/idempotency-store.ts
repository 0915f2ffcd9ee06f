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
