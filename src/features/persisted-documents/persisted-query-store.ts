/**
 * Documents registered through automatic persisted queries (APQ), by the sha256 of their text. A
 * store that cannot answer throws `SharedStateUnavailable`; `PersistedQueries` degrades on it.
 */
export interface PersistedQueryStore {
  get(hash: string): Promise<string | undefined>;
  /** Remembers `text` under `hash` (the caller checked that it is its sha256). */
  set(hash: string, text: string): Promise<void>;
}

export interface PersistedQueryBounds {
  /** APQ_MAX_ENTRIES: documents remembered at once; past it the least recently used goes. */
  maxEntries: number;
  /** APQ_MAX_BYTES: bytes (UTF-8) of the documents remembered at once; the same eviction. */
  maxBytes: number;
  /** APQ_TTL_MS: a document not used for this long is forgotten. */
  ttlMs: number;
}

interface Entry {
  text: string;
  bytes: number;
  expiresAt: number;
}

/** In process memory, least recently used first out; one instance's own. */
export class MemoryPersistedQueryStore implements PersistedQueryStore {
  readonly #entries = new Map<string, Entry>();
  readonly #bounds: PersistedQueryBounds;
  #bytes = 0;

  constructor(bounds: PersistedQueryBounds) {
    this.#bounds = bounds;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async get(hash: string): Promise<string | undefined> {
    return this.getNow(hash);
  }

  async set(hash: string, text: string): Promise<void> {
    this.setNow(hash, text);
  }

  getNow(hash: string): string | undefined {
    const entry = this.#entries.get(hash);
    if (!entry) return undefined;
    const now = Date.now();
    if (entry.expiresAt <= now) {
      this.#delete(hash, entry);
      return undefined;
    }
    // Map order is use order: the first key is the least recently used.
    this.#entries.delete(hash);
    entry.expiresAt = now + this.#bounds.ttlMs;
    this.#entries.set(hash, entry);
    return entry.text;
  }

  setNow(hash: string, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.#bounds.maxBytes) return;
    const known = this.#entries.get(hash);
    if (known) this.#delete(hash, known);
    this.#entries.set(hash, { text, bytes, expiresAt: Date.now() + this.#bounds.ttlMs });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#bounds.maxEntries && this.#bytes <= this.#bounds.maxBytes) break;
      this.#delete(oldest, entry);
    }
  }

  #delete(hash: string, entry: Entry): void {
    this.#entries.delete(hash);
    this.#bytes -= entry.bytes;
  }
}
