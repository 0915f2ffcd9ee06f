import type { LoggedRunEvent, RunEvent } from './events.ts';

/**
 * Each run's event log (docs/live.md): ordered, append-only, kept for `RUN_EVENTS_TTL_S` after its
 * last event. In memory per instance by default; a Redis Stream per run with REDIS_URL, so a
 * subscriber on any instance reads what another produced.
 */
export interface RunEventLog {
  readonly kind: 'memory' | 'redis';
  /**
   * Appends `events` at `seq`, the place the producer expects to write next. False when that place
   * is taken: another producer wrote there first, and this one must stop (it lost the run).
   */
  append(runId: string, seq: number, events: readonly RunEvent[]): Promise<boolean>;
  /** At most `limit` events after `afterSeq` (-1: from the start); null when the run has no log. */
  read(runId: string, afterSeq: number, limit: number): Promise<LoggedRunEvent[] | null>;
  /** The place of the next event (0 when the run has no log). */
  next(runId: string): Promise<number>;
  /** Resolves when the log may have grown past `afterSeq`, after `maxWaitMs` at most, or at once when `signal` aborts. */
  waitFor(runId: string, afterSeq: number, maxWaitMs: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface RunEventLogOptions {
  ttlMs: number;
  /** Events one run's log holds; past it, text deltas are dropped and only whole events are kept. */
  maxEvents: number;
}

/** What of `events` a log of `length` events keeps: past the bound, no deltas; past twice it, nothing. */
export function kept(events: readonly RunEvent[], length: number, maxEvents: number): RunEvent[] {
  const result: RunEvent[] = [];
  for (const event of events) {
    const size = length + result.length;
    if (size >= 2 * maxEvents) break;
    if (size >= maxEvents && event.type === 'MessageTextDelta') continue;
    result.push(event);
  }
  return result;
}

/** Waiters of one instance, woken when a run's log grows (here, or, with Redis, on another instance). */
export class LogWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  wait(runId: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiting.get(runId);
      if (!set) {
        set = new Set();
        this.#waiting.set(runId, set);
      }
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiting.get(runId) === waiters) this.#waiting.delete(runId);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      signal.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  wake(runId: string): void {
    const waiters = this.#waiting.get(runId);
    if (!waiters) return;
    for (const done of [...waiters]) done();
  }

  /** Whether any subscriber of this instance waits on the run (Redis notifications for others are ignored). */
  has(runId: string): boolean {
    return this.#waiting.has(runId);
  }
}
