import type {
  ClaimOutcome,
  HeldClaim,
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencySlot,
  IdempotencyStore,
  QuotaReason,
} from './idempotency-store.ts';

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
