/**
 * Who follows each run on this instance (its open `runEvents` subscriptions). A producer that can
 * only read a run (no stream of it) reads it while someone here follows it, and stops when nobody
 * does: a run nobody watches costs no upstream reads.
 */
export class RunFollowers {
  readonly #count = new Map<string, number>();

  /** Counts one follower; `first` when nobody followed the run before. `unfollow` is idempotent. */
  follow(runId: string): { first: boolean; unfollow: () => void } {
    const before = this.#count.get(runId) ?? 0;
    this.#count.set(runId, before + 1);
    let done = false;
    return {
      first: before === 0,
      unfollow: () => {
        if (done) return;
        done = true;
        const left = (this.#count.get(runId) ?? 1) - 1;
        if (left <= 0) this.#count.delete(runId);
        else this.#count.set(runId, left);
      },
    };
  }

  has(runId: string): boolean {
    return this.#count.has(runId);
  }
}
