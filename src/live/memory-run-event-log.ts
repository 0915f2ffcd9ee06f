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
  /** Its events' bytes as JSON. */
  bytes: number;
  /**
   * The log's last events as pages, by the place they follow, kept until the next append: a run's
   * subscribers, woken by one event, read the same page (one object, never changed), not a copy each.
   */
  tails: Map<number, LogPage>;
}

/** Tail pages a log keeps between appends, and the events each holds at most (what one wake adds). */
const MAX_TAILS = 4;
const MAX_TAIL_EVENTS = 16;

/** Logs kept at most: past it, the least lately written go first (each is bounded by `maxEvents`). */
const MAX_LOGS = 10_000;
const DEFAULT_MAX_BYTES = 128 * 1024 * 1024;
const SWEEP_MS = 30_000;

/**
 * The event logs of one instance, in memory: bounded in logs, in events per log and in bytes of
 * them all (a run's status events carry the whole run, its instructions and tools included), each
 * dropped after its TTL. Past a bound, the logs written to least lately go first: a finished run's
 * before a running one's. A run whose log goes while it runs loses its producer here (its next
 * append finds no log), and its subscribers read it from the upstream.
 */
export class MemoryRunEventLog implements RunEventLog {
  readonly kind = 'memory';
  readonly #options: RunEventLogOptions;
  readonly #logs = new Map<string, MemoryLog>();
  readonly #waiters = new LogWaiters();
  readonly #sweep: NodeJS.Timeout;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: RunEventLogOptions) {
    this.#options = options;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#sweep = setInterval(() => this.#dropExpired(), SWEEP_MS);
    this.#sweep.unref();
  }

  #live(runId: string): MemoryLog | undefined {
    const log = this.#logs.get(runId);
    if (log && log.expiresAt <= Date.now()) {
      this.#drop(runId, log);
      return undefined;
    }
    return log;
  }

  #drop(runId: string, log: MemoryLog): void {
    this.#logs.delete(runId);
    this.#bytes -= log.bytes;
  }

  /**
   * The least lately written logs go until the rest fit. The one just written (`keep`) goes first
   * when it alone is over the bound: dropping the others could not make it fit.
   */
  #evict(keep: string): void {
    const kept = this.#logs.get(keep);
    if (kept && kept.bytes > this.#maxBytes) this.#drop(keep, kept);
    for (const [runId, log] of this.#logs) {
      if (this.#logs.size <= MAX_LOGS && this.#bytes <= this.#maxBytes) return;
      if (runId !== keep) this.#drop(runId, log);
    }
  }

  async append(runId: string, seq: number, events: readonly RunEvent[], epoch: string | null): Promise<string | null> {
    let log = this.#live(runId);
    if ((log?.events.length ?? 0) !== seq || (log && log.epoch !== epoch)) return null;
    if (!log) log = { epoch: newEpoch(), events: [], expiresAt: 0, bytes: 0, tails: new Map() };
    const added = kept(events, log.events.length, this.#options.maxEvents);
    let bytes = 0;
    for (const event of added) bytes += Buffer.byteLength(JSON.stringify(event));
    log.events.push(...added);
    log.tails.clear();
    log.bytes += bytes;
    this.#bytes += bytes;
    log.expiresAt = Date.now() + this.#options.ttlMs;
    // Written last: the map's order is the order of writing, least lately first.
    this.#logs.delete(runId);
    this.#logs.set(runId, log);
    this.#evict(runId);
    this.#waiters.wake(runId);
    return log.epoch;
  }

  async read(runId: string, afterSeq: number, limit: number): Promise<LogPage | null> {
    const log = this.#live(runId);
    if (!log) return null;
    const from = afterSeq + 1;
    // A page that reaches the log's end is the same whatever the limit past its length.
    const remaining = log.events.length - from;
    const tail = remaining >= 0 && remaining <= limit && remaining <= MAX_TAIL_EVENTS;
    const known = tail ? log.tails.get(afterSeq) : undefined;
    if (known) return known;
    const events = log.events.slice(from, from + limit).map((event, index) => ({ seq: from + index, event }));
    const page = { epoch: log.epoch, events };
    if (tail && log.tails.size < MAX_TAILS) log.tails.set(afterSeq, page);
    return page;
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
    for (const [runId, log] of this.#logs) if (log.expiresAt <= now) this.#drop(runId, log);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }
}
