import type { RunEvent } from './events.ts';
import {
  kept,
  type LogPage,
  LogWaiters,
  newEpoch,
  type RunEventLog,
  type RunEventLogOptions,
} from './run-event-log.ts';

interface MemoryLog {
  epoch: string;
  events: RunEvent[];
  expiresAt: number;
}

/** Logs kept at most: past it, the oldest logs go first (each is bounded by `maxEvents`). */
const MAX_LOGS = 10_000;
const SWEEP_MS = 30_000;

/** The event logs of one instance, in memory: bounded in logs and in events per log, each dropped after its TTL. */
export class MemoryRunEventLog implements RunEventLog {
  readonly kind = 'memory';
  readonly #options: RunEventLogOptions;
  readonly #logs = new Map<string, MemoryLog>();
  readonly #waiters = new LogWaiters();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: RunEventLogOptions) {
    this.#options = options;
    this.#sweep = setInterval(() => this.#dropExpired(), SWEEP_MS);
    this.#sweep.unref();
  }

  #live(runId: string): MemoryLog | undefined {
    const log = this.#logs.get(runId);
    if (log && log.expiresAt <= Date.now()) {
      this.#logs.delete(runId);
      return undefined;
    }
    return log;
  }

  async append(runId: string, seq: number, events: readonly RunEvent[], epoch: string | null): Promise<string | null> {
    let log = this.#live(runId);
    if ((log?.events.length ?? 0) !== seq || (log && log.epoch !== epoch)) return null;
    if (!log) {
      log = { epoch: newEpoch(), events: [], expiresAt: 0 };
      this.#logs.set(runId, log);
      while (this.#logs.size > MAX_LOGS) this.#logs.delete(this.#logs.keys().next().value as string);
    }
    log.events.push(...kept(events, log.events.length, this.#options.maxEvents));
    log.expiresAt = Date.now() + this.#options.ttlMs;
    this.#waiters.wake(runId);
    return log.epoch;
  }

  async read(runId: string, afterSeq: number, limit: number): Promise<LogPage | null> {
    const log = this.#live(runId);
    if (!log) return null;
    const from = afterSeq + 1;
    const events = log.events.slice(from, from + limit).map((event, index) => ({ seq: from + index, event }));
    return { epoch: log.epoch, events };
  }

  async next(runId: string): Promise<{ next: number; epoch: string } | null> {
    const log = this.#live(runId);
    return log ? { next: log.events.length, epoch: log.epoch } : null;
  }

  waitFor(runId: string, afterSeq: number, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    if ((this.#live(runId)?.events.length ?? 0) > afterSeq + 1) return Promise.resolve();
    return this.#waiters.wait(runId, maxWaitMs, signal);
  }

  #dropExpired(): void {
    const now = Date.now();
    for (const [runId, log] of this.#logs) if (log.expiresAt <= now) this.#logs.delete(runId);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }
}
