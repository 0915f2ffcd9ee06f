import { randomBytes } from 'node:crypto';
import { endsRunEvents, type LoggedRunEvent, type RunEvent } from './events.ts';

/** Events of a run's log, and which log: a log made again (after it expired, or on a new instance's memory) is another. */
export interface LogPage {
  /** The log's identity, made with its first event: cursors name it, so one from an earlier log is never read in this one. */
  readonly epoch: string;
  /** Shared by the subscribers that read the same page: never changed. */
  readonly events: readonly LoggedRunEvent[];
}

/**
 * Each run's event log (docs/live.md): ordered, append-only, kept for `RUN_EVENTS_TTL_S` after its
 * last event. In memory per instance by default; a Redis Stream per run with REDIS_URL, so a
 * subscriber on any instance reads what another produced.
 */
export interface RunEventLog {
  readonly kind: 'memory' | 'redis';
  /**
   * Appends `events` at `seq`, the place the producer expects to write next, in the log `epoch`
   * names (at 0, the log is made, with a new epoch). The log's epoch; null when that place is taken
   * or the log is another (made again since): another producer wrote there first, and this one must
   * stop (it lost the run).
   */
  append(runId: string, seq: number, events: readonly RunEvent[], epoch: string | null): Promise<string | null>;
  /** At most `limit` events after `afterSeq` (-1: from the start); null when the run has no log. */
  read(runId: string, afterSeq: number, limit: number): Promise<LogPage | null>;
  /** The place of the next event and the log's epoch; null when the run has no log. */
  next(runId: string): Promise<{ next: number; epoch: string } | null>;
  /** Resolves when the log may have grown past `afterSeq`, after `maxWaitMs` at most, or at once when `signal` aborts. */
  waitFor(runId: string, afterSeq: number, maxWaitMs: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A new log's epoch: short, random, cursor-safe. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

export interface RunEventLogOptions {
  ttlMs: number;
  /** Events one run's log holds; past it, text deltas are dropped; past twice it, all but the run's end. */
  maxEvents: number;
  /** Bytes (as JSON) of all logs held in this process's memory; past it, the least lately written logs go. */
  maxBytes?: number;
}

/**
 * What of `events` a log of `length` events keeps: past the bound, no deltas; past twice it, only
 * the events that end a subscription (the run's final status, or REQUIRES_ACTION), so that every
 * subscriber still learns how the run ended.
 */
export function kept(events: readonly RunEvent[], length: number, maxEvents: number): RunEvent[] {
  const result: RunEvent[] = [];
  for (const event of events) {
    const size = length + result.length;
    if (size >= 2 * maxEvents && !endsRunEvents(event)) continue;
    if (size >= maxEvents && event.type === 'MessageTextDelta') continue;
    result.push(event);
  }
  return result;
}

/** Waiters of one run woken in one turn of the event loop (`LogWaiters.wake`). */
const WAKE_BATCH = 50;

/** How often waiters past their `maxWaitMs` are let go (so a wait may last this much longer). */
const SWEEP_MS = 100;

interface Waiter {
  runId: string;
  resolve: () => void;
  deadline: number;
  slot: Slot;
}

/** A signal's waits: the one now pending, and whether the signal has aborted (read here, not from the signal each time). */
interface Slot {
  current?: Waiter;
  aborted: boolean;
}

/**
 * Waiters of one instance, woken when a run's log grows (here, or, with Redis, on another instance).
 * A wake reaches every subscriber of a run at once, so a wait costs no timer and no listener of its
 * own: the waits past their time are let go by one sweep, and each signal gets one abort listener
 * for all the waits made with it.
 */
export class LogWaiters {
  readonly #waiting = new Map<string, Set<Waiter>>();
  readonly #slots = new WeakMap<AbortSignal, Slot>();
  #sweep: ReturnType<typeof setInterval> | undefined;

  #slotOf(signal: AbortSignal): Slot {
    const known = this.#slots.get(signal);
    if (known) return known;
    const slot: Slot = { aborted: signal.aborted };
    this.#slots.set(signal, slot);
    signal.addEventListener(
      'abort',
      () => {
        slot.aborted = true;
        if (slot.current) this.#letGo(slot.current);
      },
      { once: true },
    );
    return slot;
  }

  wait(runId: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    const slot = this.#slotOf(signal);
    if (slot.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = { runId, resolve, deadline: Date.now() + maxWaitMs, slot };
      slot.current = waiter;
      let set = this.#waiting.get(runId);
      if (!set) {
        set = new Set();
        this.#waiting.set(runId, set);
      }
      set.add(waiter);
      this.#sweep ??= setInterval(() => this.#letGoLate(), SWEEP_MS).unref();
    });
  }

  /**
   * Wakes the run's waiters, WAKE_BATCH per turn of the event loop. Woken at once, a thousand
   * subscribers would each take a step of their way to the socket before any took the next (promise
   * continuations run in order), so the first frame would go out with the last, once the whole
   * fan-out was built; a batch at a time, each batch's frames are written before the next is woken,
   * and clients read while the rest are built.
   */
  wake(runId: string): void {
    const waiters = this.#waiting.get(runId);
    if (!waiters) return;
    this.#waiting.delete(runId);
    this.#stopSweepWhenIdle();
    if (waiters.size <= WAKE_BATCH) {
      for (const waiter of waiters) this.#resolve(waiter);
      return;
    }
    const pending = [...waiters];
    const next = (from: number) => {
      const to = Math.min(from + WAKE_BATCH, pending.length);
      for (let index = from; index < to; index++) this.#resolve(pending[index] as Waiter);
      if (to < pending.length) setImmediate(next, to);
    };
    next(0);
  }

  #resolve(waiter: Waiter): void {
    if (waiter.slot.current === waiter) waiter.slot.current = undefined;
    waiter.resolve();
  }

  #letGo(waiter: Waiter): void {
    const waiters = this.#waiting.get(waiter.runId);
    if (waiters?.delete(waiter) && waiters.size === 0) this.#waiting.delete(waiter.runId);
    this.#resolve(waiter);
    this.#stopSweepWhenIdle();
  }

  #letGoLate(): void {
    const now = Date.now();
    for (const [runId, waiters] of this.#waiting) {
      for (const waiter of waiters) {
        if (waiter.deadline > now) continue;
        waiters.delete(waiter);
        this.#resolve(waiter);
      }
      if (waiters.size === 0) this.#waiting.delete(runId);
    }
    this.#stopSweepWhenIdle();
  }

  #stopSweepWhenIdle(): void {
    if (this.#waiting.size > 0 || !this.#sweep) return;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** Whether any subscriber of this instance waits on the run (Redis notifications for others are ignored). */
  has(runId: string): boolean {
    return this.#waiting.has(runId);
  }
}
