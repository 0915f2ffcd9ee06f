import { setMaxListeners } from 'node:events';
import type { LiveConfig } from '../config/live-config.ts';
import { badUserInput, ErrorCode, GatewayError } from '../errors.ts';
import {
  type DeliveredEvent,
  decodeCursor,
  encodeCursor,
  endsRunEvents,
  isFinal,
  type RunEvent,
  type ThreadEvent,
} from './events.ts';
import { KeyedCount } from './keyed-count.ts';
import type { RunEventLog } from './run-event-log.ts';
import type { RunProducers } from './run-producer.ts';
import type { ThreadEventBus } from './thread-event-bus.ts';

/** The last thing a subscription hands its resolver: the coded error it ends with. */
export interface EndOfEvents {
  type: 'End';
  error: GatewayError;
}

export type SubscriptionItem = DeliveredEvent | EndOfEvents;

/** Who subscribes: the caller (for the per-caller limit) and its credential (to read the run). */
export interface Subscriber {
  callerId: string;
  credential: string | undefined;
  /** The subscribing request's: aborted when its client goes away, which ends the subscription. */
  gone?: AbortSignal;
}

export interface LiveDeps {
  config: LiveConfig;
  log: RunEventLog;
  bus: ThreadEventBus;
  producers: RunProducers;
  /** Each run's followers on this instance (the producers read a run only while it has some). */
  followers: KeyedCount;
}

/** Events read from a log at once. */
const PAGE = 100;
/** A subscriber with nothing new looks again after this, even without a notification. */
const LOOK_AGAIN_MS = 1_000;

/** Hands the event loop back (a replay of a long log read from memory never waits on I/O). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A subscription that completes at once, with no event. */
async function* nothing(): AsyncGenerator<SubscriptionItem> {}

/**
 * Wraps a generator so that `return()` (the client went away) ends it at once, even while it
 * waits: the generator's waits take the signal, which `return()` aborts first. `cleanUp` (idempotent,
 * also called by the generator's own `finally`) runs on `return()`/`throw()` too: a generator that
 * never started (the client left between subscribe and the first event) runs no `finally`, and
 * would otherwise keep its caller's slot and its listener for ever.
 */
function abortable(
  make: (signal: AbortSignal) => AsyncGenerator<SubscriptionItem>,
  cleanUp: () => void,
  gone: AbortSignal | undefined,
): AsyncGenerator<SubscriptionItem> {
  const controller = new AbortController();
  const generator = make(controller.signal);
  const wrapped: AsyncGenerator<SubscriptionItem> = {
    next: (...args) => generator.next(...args),
    return: async (value) => {
      controller.abort();
      try {
        return await generator.return(value);
      } finally {
        cleanUp();
      }
    },
    throw: async (error) => {
      controller.abort();
      try {
        return await generator.throw(error);
      } finally {
        cleanUp();
      }
    },
    [Symbol.asyncIterator]: () => wrapped,
  } as AsyncGenerator<SubscriptionItem>;
  // The client may leave before anyone reads the subscription (its answer never sent): end it then too.
  if (gone?.aborted) void wrapped.return(undefined);
  else gone?.addEventListener('abort', () => void wrapped.return(undefined), { once: true });
  return wrapped;
}

/**
 * A signal aborted when either of two is, and its release. Unlike `AbortSignal.any`, it leaves
 * nothing behind on the long-lived one (the instance's stopping signal) once released: Node keeps an
 * entry per combined signal on each source for as long as the source lives. `state` says which has
 * aborted, read as plain fields on every turn of a subscription's loop (a signal's `aborted` getter
 * checks its receiver each time).
 */
function eitherOf(
  short: AbortSignal,
  long: AbortSignal,
): { signal: AbortSignal; state: { short: boolean; long: boolean }; release(): void } {
  const controller = new AbortController();
  const state = { short: short.aborted, long: long.aborted };
  const onShort = () => {
    state.short = true;
    controller.abort();
  };
  const onLong = () => {
    state.long = true;
    controller.abort();
  };
  if (state.short || state.long) controller.abort();
  short.addEventListener('abort', onShort, { once: true });
  long.addEventListener('abort', onLong, { once: true });
  return {
    signal: controller.signal,
    state,
    release: () => {
      short.removeEventListener('abort', onShort);
      long.removeEventListener('abort', onLong);
    },
  };
}

/** What the log answers; a log that cannot be reached (Redis) refuses the subscription with a code. */
async function unlessLogDown<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch {
    throw new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      'The run’s event log (Redis) is not reachable; subscribe again shortly.',
    );
  }
}

function end(code: ErrorCode, message: string, cursor: string | null): EndOfEvents {
  return { type: 'End', error: new GatewayError(code, message, { extensions: cursor ? { cursor } : {} }) };
}

/**
 * Subscriptions (docs/live.md): `runEvents` reads the run's log from a cursor and follows it;
 * `threadEvents` passes on what the thread's bus carries while it is open. Both count against the
 * caller's limit, end with a coded error (and the last cursor) when the instance stops, and release
 * everything when the client goes away.
 */
export class Live {
  readonly #deps: LiveDeps;
  readonly #perCaller = new KeyedCount();
  readonly #stopping = new AbortController();
  readonly #lastStart = new Map<string, number>();
  /**
   * A logged event as subscriptions get it (with its cursor): one object per logged event, so that
   * every subscription reading the same event is handed the same object (shared-event-results.ts).
   */
  readonly #deliveredEvents = new WeakMap<RunEvent, DeliveredEvent>();

  constructor(deps: LiveDeps) {
    this.#deps = deps;
    // Every open subscription listens for the instance stopping (one listener each, removed when it
    // ends; their number is bounded by the subscription limits): no warning past ten.
    setMaxListeners(0, this.#stopping.signal);
  }

  /** Live subscriptions of this instance. */
  get open(): number {
    return this.#perCaller.total;
  }

  #delivered(runId: string, epoch: string, seq: number, event: RunEvent): DeliveredEvent {
    let delivered = this.#deliveredEvents.get(event);
    if (!delivered) {
      delivered = { ...event, cursor: encodeCursor(runId, epoch, seq) };
      this.#deliveredEvents.set(event, delivered);
    }
    return delivered;
  }

  #admit(callerId: string): () => void {
    if (this.#perCaller.of(callerId) >= this.#deps.config.maxPerCaller) {
      throw new GatewayError(
        ErrorCode.SUBSCRIPTION_LIMIT,
        `At most ${this.#deps.config.maxPerCaller} live subscriptions per caller (MAX_SUBSCRIPTIONS_PER_CALLER).`,
        { extensions: { limit: this.#deps.config.maxPerCaller } },
      );
    }
    return this.#perCaller.add(callerId);
  }

  /** Starts a producer for the run unless this instance tried within half a lease (a takeover is one try per instance). */
  #ensureProducer(threadId: string, runId: string, credential: string | undefined): void {
    const now = Date.now();
    if ((this.#lastStart.get(runId) ?? 0) > now - this.#deps.config.runLeaseMs / 2) return;
    this.#lastStart.set(runId, now);
    if (this.#lastStart.size > 10_000) this.#lastStart.delete(this.#lastStart.keys().next().value as string);
    this.#deps.producers.start(threadId, runId, credential);
  }

  /**
   * Whether the run is known to exist for this subscriber without reading it: this instance
   * produces it, of the thread, with the subscriber's credential (a read would find it).
   */
  knownRun(subscriber: Subscriber, threadId: string, runId: string): boolean {
    return this.#deps.producers.producingFor(threadId, runId, subscriber.credential);
  }

  /**
   * The run's events after `after` (or from the start). The caller has read the run already (it
   * exists, and the caller may see it). Refuses a cursor that is malformed, of another run, or not
   * of the run's log as it is (the log expired, or was made again since), before anything is opened.
   */
  async runEvents(subscriber: Subscriber, threadId: string, runId: string, after: string | undefined) {
    const { log } = this.#deps;
    const place = after === undefined ? undefined : decodeCursor(after, runId, 'after');
    const state = await unlessLogDown(log.next(runId));
    if (place && (!state || place.epoch !== state.epoch)) {
      throw badUserInput(
        'after: the run’s event log does not hold this cursor (it expired, or the log was started again since); subscribe without after',
        'after',
      );
    }
    if (place && state && place.seq >= state.next) {
      throw badUserInput('after: the run’s event log has not handed out this cursor (no such place in it)', 'after');
    }
    const afterSeq = place?.seq ?? -1;
    // Resuming after the run's final event: nothing more will come.
    if (state && afterSeq >= 0 && afterSeq === state.next - 1) {
      const last = (await unlessLogDown(log.read(runId, afterSeq - 1, 1)))?.events[0];
      if (last && isFinal(last.event)) return nothing();
    }
    const release = this.#admit(subscriber.callerId);
    // A run nobody here followed may have had its producer stop for that: one may start at once.
    if (!this.#deps.followers.has(runId)) this.#lastStart.delete(runId);
    const unfollow = this.#deps.followers.add(runId);
    const cleanUp = () => {
      unfollow();
      release();
    };
    try {
      // Someone must follow the run: this instance, unless another holds the run's lease.
      if (!this.#deps.producers.producing(runId)) this.#ensureProducer(threadId, runId, subscriber.credential);
    } catch (error) {
      cleanUp();
      throw error;
    }
    return abortable(
      (signal) => this.#followRun(signal, subscriber, threadId, runId, afterSeq, state?.epoch ?? null, cleanUp),
      cleanUp,
      subscriber.gone,
    );
  }

  async *#followRun(
    signal: AbortSignal,
    subscriber: Subscriber,
    threadId: string,
    runId: string,
    afterSeq: number,
    knownEpoch: string | null,
    release: () => void,
  ): AsyncGenerator<SubscriptionItem> {
    const { log } = this.#deps;
    const { signal: stop, state, release: stopReleased } = eitherOf(signal, this.#stopping.signal);
    let cursor = afterSeq;
    let epoch = knownEpoch;
    let sinceTurn = 0;
    const lastCursor = () => (cursor >= 0 && epoch !== null ? encodeCursor(runId, epoch, cursor) : null);
    try {
      while (!state.short) {
        if (state.long) {
          // With the log in this instance's memory, no other instance holds its places.
          const message =
            log.kind === 'redis'
              ? 'This instance is stopping; resume with `after`.'
              : 'This instance is stopping; subscribe again without `after` (its event logs are in its memory).';
          yield end(ErrorCode.SHUTTING_DOWN, message, lastCursor());
          return;
        }
        let page: Awaited<ReturnType<RunEventLog['read']>>;
        try {
          page = await log.read(runId, cursor, PAGE);
        } catch {
          const message = 'The run’s event log (Redis) is not reachable; resume with `after`.';
          yield end(ErrorCode.UPSTREAM_UNAVAILABLE, message, lastCursor());
          return;
        }
        if (page && page.epoch !== epoch) {
          // The log was made again under this subscription (it expired while the run waited, and a
          // producer took the run over): its places are new, so it is read from its start.
          const remade = epoch !== null;
          epoch = page.epoch;
          if (remade) {
            cursor = -1;
            continue;
          }
        }
        for (const { seq, event } of page?.events ?? []) {
          cursor = seq;
          yield this.#delivered(runId, epoch ?? '', seq, event);
          if (endsRunEvents(event)) return;
        }
        if (page && page.events.length > 0) {
          // A long log replayed from memory: a page at a time, with other work in between.
          sinceTurn += page.events.length;
          if (sinceTurn >= PAGE) {
            sinceTurn = 0;
            await turn();
          }
          continue;
        }
        sinceTurn = 0;
        await log.waitFor(runId, cursor, LOOK_AGAIN_MS, stop);
        if (this.#deps.producers.gone(runId)) {
          yield end(ErrorCode.NOT_FOUND, 'The run is gone upstream (its thread was deleted).', lastCursor());
          return;
        }
        if (!this.#deps.producers.producing(runId)) this.#ensureProducer(threadId, runId, subscriber.credential);
      }
    } finally {
      stopReleased();
      release();
    }
  }

  /** The thread's changes while the subscription is open; ends after ThreadDeleted. */
  threadEvents(subscriber: Subscriber, threadId: string): AsyncGenerator<SubscriptionItem> {
    const release = this.#admit(subscriber.callerId);
    const queue: ThreadEvent[] = [];
    let overflow = false;
    let wake: (() => void) | undefined;
    const stopListening = this.#deps.bus.listen(threadId, (event) => {
      if (queue.length >= this.#deps.config.bufferEvents) overflow = true;
      else queue.push(event);
      wake?.();
    });
    const stopping = this.#stopping.signal;
    const cleanUp = () => {
      stopListening();
      release();
    };
    return abortable(
      async function* (signal) {
        const { signal: stop, state, release: stopReleased } = eitherOf(signal, stopping);
        const onStop = () => wake?.();
        stop.addEventListener('abort', onStop, { once: true });
        try {
          while (!state.short) {
            const event = queue.shift();
            if (event) {
              yield event;
              if (event.type === 'ThreadDeleted') return;
              continue;
            }
            if (overflow) {
              const message = `The client read slower than the thread changed (SUBSCRIPTION_BUFFER_EVENTS); subscribe again and read the thread.`;
              yield end(ErrorCode.SUBSCRIPTION_OVERFLOW, message, null);
              return;
            }
            if (state.long) {
              yield end(ErrorCode.SHUTTING_DOWN, 'This instance is stopping; subscribe again.', null);
              return;
            }
            if (state.short) break;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          stopReleased();
          cleanUp();
        }
      },
      cleanUp,
      subscriber.gone,
    );
  }

  /** Shutdown: every subscription ends with SHUTTING_DOWN (and its cursor); producers hand their runs over. */
  shutdown(): void {
    this.#stopping.abort();
    this.#deps.producers.stop();
  }
}
