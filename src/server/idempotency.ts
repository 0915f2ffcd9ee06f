import { createHash } from 'node:crypto';
import { ErrorCode, GatewayError } from '../errors.ts';
import type { Thread, UpstreamMessage } from '../upstream/upstream-api.ts';

/** What is remembered for one (caller, idempotencyKey). */
export type IdempotencyRecord =
  /** What this key created, as the upstream returned it: a thread, or a message (createMessage). */
  | { state: 'created'; fingerprint: string; thread: Thread | UpstreamMessage }
  /** A create whose outcome the upstream left unknown; the next try resends the same upstream key. */
  | { state: 'unknown'; fingerprint: string };

/**
 * Where idempotency records live. The in-memory store below serves one process; a shared store
 * (Redis, a database) implementing this interface lets several gateway replicas agree.
 */
export interface IdempotencyStore {
  get(key: string): Promise<IdempotencyRecord | undefined>;
  set(key: string, record: IdempotencyRecord): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Bounded, expiring, in memory: the oldest entries go first when it is full. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor({ ttlMs, maxEntries }: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.record;
  }

  async set(key: string, record: IdempotencyRecord): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { record, expiresAt: Date.now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
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

/**
 * createThread with an idempotencyKey: the same key from the same caller within the TTL returns the
 * thread it first created. Concurrent tries with one key share a single upstream create. The key
 * also goes upstream as `Idempotency-Key` (scoped to the caller), so when a first try's outcome was
 * unknown, the retry lets an upstream that honours the header return the thread it made.
 */
export class IdempotentCreates {
  readonly #store: IdempotencyStore;
  readonly #running = new Map<string, Promise<Thread | UpstreamMessage>>();

  constructor(store: IdempotencyStore) {
    this.#store = store;
  }

  /**
   * `params` must tell creates of different kinds apart (createMessage's carry its thread), so one
   * key can never return a thread where a message was asked for: that is a conflict.
   */
  run<T extends Thread | UpstreamMessage>(
    callerId: string,
    key: string,
    params: unknown,
    create: (upstreamKey: string) => Promise<T>,
  ): Promise<T> {
    const scoped = sha256(`${callerId}\u0000${key}`);
    const fingerprint = sha256(canonical(params));
    const running = this.#running.get(scoped);
    if (running) return running.then((created) => this.#check(scoped, fingerprint).then(() => created as T));
    const attempt = this.#attempt(scoped, fingerprint, create).finally(() => this.#running.delete(scoped));
    this.#running.set(scoped, attempt);
    return attempt as Promise<T>;
  }

  async #check(scoped: string, fingerprint: string): Promise<void> {
    const record = await this.#store.get(scoped);
    if (record && record.fingerprint !== fingerprint) throw conflict();
  }

  async #attempt(
    scoped: string,
    fingerprint: string,
    create: (upstreamKey: string) => Promise<Thread | UpstreamMessage>,
  ): Promise<Thread | UpstreamMessage> {
    const record = await this.#store.get(scoped);
    if (record && record.fingerprint !== fingerprint) throw conflict();
    if (record?.state === 'created') return record.thread;
    try {
      const thread = await create(`gw-${scoped.slice(0, 48)}`);
      await this.#store.set(scoped, { state: 'created', fingerprint, thread });
      return thread;
    } catch (error) {
      if (error instanceof GatewayError && error.extensions.outcome === 'unknown') {
        await this.#store.set(scoped, { state: 'unknown', fingerprint });
      } else if (!record) {
        await this.#store.delete(scoped);
      }
      throw error;
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
