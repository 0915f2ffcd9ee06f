/**
 * How many of something are open per key: a caller's live subscriptions (its limit), or a run's
 * followers on this instance (a producer that can only read a run reads it while someone here
 * follows it, so a run nobody watches costs no upstream reads).
 */
export class KeyedCount {
  readonly #count = new Map<string, number>();

  /** The count for `key`. */
  of(key: string): number {
    return this.#count.get(key) ?? 0;
  }

  has(key: string): boolean {
    return this.#count.has(key);
  }

  /** Every key's count together. */
  get total(): number {
    let total = 0;
    for (const count of this.#count.values()) total += count;
    return total;
  }

  /** Counts one more for `key`; `release` (idempotent) counts it off again. */
  add(key: string): () => void {
    this.#count.set(key, this.of(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.of(key) - 1;
      if (left <= 0) this.#count.delete(key);
      else this.#count.set(key, left);
    };
  }
}
