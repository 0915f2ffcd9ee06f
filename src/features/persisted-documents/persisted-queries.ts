import type { Logger } from '../../logger.ts';
import {
  MemoryPersistedQueryStore,
  type PersistedQueryBounds,
  type PersistedQueryStore,
} from './persisted-query-store.ts';

/**
 * The APQ registry: documents by the sha256 of their text. Every instance keeps the documents it
 * has seen in memory (a document never changes under its hash, so this copy is never stale), and
 * with REDIS_URL also in Redis, so that every instance knows a document any instance has seen.
 *
 * Redis is never needed for an answer: while it fails, each instance serves from its own memory, a
 * document it has not seen is PERSISTED_QUERY_NOT_FOUND and the client sends it in full once more.
 */
export class PersistedQueries {
  readonly #local: MemoryPersistedQueryStore;
  readonly #shared: PersistedQueryStore | undefined;
  readonly #logger: Logger;
  #degraded = false;
  /** After a failure Redis is left alone for a second, so a hung Redis delays one request a second, not all. */
  #skipUntil = 0;

  constructor(bounds: PersistedQueryBounds, shared: PersistedQueryStore | undefined, logger: Logger) {
    this.#local = new MemoryPersistedQueryStore(bounds);
    this.#shared = shared;
    this.#logger = logger;
  }

  async get(hash: string): Promise<string | undefined> {
    const known = this.#local.getNow(hash);
    if (known !== undefined || !this.#usable()) return known;
    try {
      const text = await (this.#shared as PersistedQueryStore).get(hash);
      this.#recovered();
      if (text !== undefined) this.#local.setNow(hash, text);
      return text;
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
  }

  /** Remembers a document whose hash the caller has checked; a failure to share it is only logged. */
  async register(hash: string, text: string): Promise<void> {
    this.#local.setNow(hash, text);
    if (!this.#usable()) return;
    try {
      await (this.#shared as PersistedQueryStore).set(hash, text);
      this.#recovered();
    } catch (error) {
      this.#failed(error);
    }
  }

  #usable(): boolean {
    return this.#shared !== undefined && Date.now() >= this.#skipUntil;
  }

  #recovered(): void {
    if (this.#degraded) this.#logger.warn('persisted queries shared through Redis again');
    this.#degraded = false;
  }

  /** Any failure, not only `SharedStateUnavailable`: a persisted query never turns into a 500. */
  #failed(error: unknown): void {
    if (!this.#degraded) {
      this.#logger.error('persisted query store unreachable: each instance keeps its own until it returns', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#degraded = true;
    this.#skipUntil = Date.now() + 1_000;
  }
}
