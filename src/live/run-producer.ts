import { randomUUID } from 'node:crypto';
import { type Run, type RunStatus, TERMINAL_RUN_STATUSES } from '../domain/run.ts';
import type { Logger } from '../logger.ts';
import type { UpstreamSession } from '../upstream/calls/call-session.ts';
import { RequestBudget } from '../upstream/calls/request-budget.ts';
import type { StreamedRun, UpstreamApi, UpstreamMessage } from '../upstream/upstream-api.ts';
import { encodeCursor, endsRunEvents, type RunEvent } from './events.ts';
import type { KeyedCount } from './keyed-count.ts';
import { kept, type RunEventLog } from './run-event-log.ts';
import type { RunLeases } from './run-leases.ts';
import type { ThreadEventBus } from './thread-event-bus.ts';

export interface RunProducerDeps {
  log: RunEventLog;
  leases: RunLeases;
  bus: ThreadEventBus;
  upstream: UpstreamApi;
  /** Who follows each run here: a producer that reads a run stops when nobody does. */
  followers: Pick<KeyedCount, 'has'>;
  /** Events one run's log holds (RUN_EVENTS_MAX): what the log keeps of each append. */
  maxEvents: number;
  leaseMs: number;
  /** The deadline of each background upstream call (REQUEST_DEADLINE_MS). */
  callDeadlineMs: number;
  /** Told of each upstream call a producer makes (metrics). */
  onCall?: UpstreamSession['onCall'];
  logger: Logger;
}

/** Reading a run: first look after this, backing off to the longest wait. */
const FIRST_READ_MS = 250;
const LONGEST_READ_MS = 2_000;
/** A producer follows one run at most this long, then leaves it (a later subscriber starts again). */
const FOLLOW_MS = 30 * 60_000;
const RUN_MESSAGES_PAGE = 100;
/** Runs found gone upstream lately (their thread deleted), remembered at most. */
const MAX_GONE = 10_000;

/** Where a run is, as its log says: what a producer must not log again. */
interface Logged {
  /** The log's epoch (null: the run has no log yet): appends go to that log only. */
  epoch: string | null;
  seq: number;
  status: string | null;
  completed: Set<string>;
  /** The last logged event's place in a stream that can be resumed after it. */
  position: string | null;
}

/** A producer of this instance: its stop, and the thread and credential it reads the run with. */
interface Producer {
  controller: AbortController;
  threadId: string;
  credential: string | undefined;
  /** While it reads the run: a stream of it handed over (a write through this gateway streams it). */
  reading: boolean;
  handed?: StreamedRun;
  /** Ends its wait between reads at once (a stream was handed over). */
  nudge?: () => void;
}

/** Waits `ms`, or until `signal` aborts or the producer is nudged. */
function nap(ms: number, signal: AbortSignal, producer: Producer): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      producer.nudge = undefined;
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
    producer.nudge = done;
  });
}

/**
 * The producers of this instance (docs/live.md): one per run, under the run's lease. A producer
 * logs what an upstream stream says (the gateway created the run streaming), and reads the run
 * when there is no stream or the stream broke: then it logs status changes and whole messages,
 * never one it logged already, so a takeover neither loses nor repeats an event.
 */
export class RunProducers {
  readonly #deps: RunProducerDeps;
  readonly #owner = randomUUID();
  /** Per run produced here: its producer. */
  readonly #active = new Map<string, Producer>();
  /** Runs a producer here found gone upstream: their followers end (NOT_FOUND) instead of waiting. */
  readonly #gone = new Set<string>();
  #stopped = false;

  constructor(deps: RunProducerDeps) {
    this.#deps = deps;
  }

  /** Whether a producer here found the run gone upstream (a read answered 404). */
  gone(runId: string): boolean {
    return this.#gone.has(runId);
  }

  /** Whether this instance produces the run now. */
  producing(runId: string): boolean {
    return this.#active.has(runId);
  }

  /**
   * Whether this instance produces the run now, of that thread and with that credential: its
   * producer read (or created) it with the credential, so a read of it with the same one would
   * find it too.
   */
  producingFor(threadId: string, runId: string, credential: string | undefined): boolean {
    const producer = this.#active.get(runId);
    return producer !== undefined && producer.threadId === threadId && producer.credential === credential;
  }

  /**
   * Produces the run's events unless someone does: from `streamed` when given (the upstream's
   * stream of a run this gateway just created or answered), then by reading it. Resolves once the
   * stream's first run is logged (at once without one); never rejects. A stream it does not read
   * (another producer has the run) is closed.
   */
  start(threadId: string, runId: string, credential: string | undefined, streamed?: StreamedRun): Promise<void> {
    const current = this.#active.get(runId);
    if (current?.reading && streamed && !this.#stopped) {
      // A producer here reads the run (a subscriber waited on it): it reads the stream instead.
      current.handed?.close();
      current.handed = streamed;
      current.nudge?.();
      return Promise.resolve();
    }
    if (this.#stopped || current) {
      streamed?.close();
      return Promise.resolve();
    }
    const controller = new AbortController();
    const producer: Producer = { controller, threadId, credential, reading: false };
    this.#active.set(runId, producer);
    let resolve: () => void = () => undefined;
    const firstLogged = new Promise<void>((done) => {
      resolve = done;
    });
    void this.#produce(producer, runId, streamed, resolve)
      .catch((error: unknown) =>
        this.#deps.logger.warn('run events: producer stopped', {
          runId,
          error: error instanceof Error ? error.message : String(error),
        }),
      )
      .finally(() => {
        resolve();
        if (this.#active.get(runId) === producer) this.#active.delete(runId);
      });
    return firstLogged;
  }

  async #produce(
    producer: Producer,
    runId: string,
    streamed: StreamedRun | undefined,
    firstLogged: () => void,
  ): Promise<void> {
    const { threadId, credential } = producer;
    const signal = producer.controller.signal;
    const { leases, leaseMs } = this.#deps;
    if (!(await leases.acquire(runId, this.#owner, leaseMs).catch(() => false))) {
      streamed?.close();
      return;
    }
    const lost = new AbortController();
    const stop = AbortSignal.any([signal, lost.signal]);
    const renewal = setInterval(() => {
      void leases.renew(runId, this.#owner, leaseMs).then(
        (held) => held || lost.abort(),
        () => undefined,
      );
    }, leaseMs / 3);
    try {
      const logged = await this.#logged(runId);
      // A run whose log ends in a final status has nothing more to say.
      if (logged.status && TERMINAL_RUN_STATUSES.has(logged.status as RunStatus)) return;
      const emit = (events: RunEvent[]) => this.#emit(threadId, runId, logged, events, lost);
      let ended = false;
      if (streamed) {
        ended = await emit([{ type: 'RunStatusChanged', run: streamed.run }]);
        firstLogged();
        if (!ended) ended = await this.#fromStream(streamed, emit, stop);
        else streamed.close();
      }
      // Taking a run over: its stream again, after the last logged event, where the upstream can.
      if (!streamed && logged.position && !stop.aborted) {
        const resumed = await this.#deps.upstream
          .resumeRunStream?.(this.#session(credential), threadId, runId, logged.position)
          .catch(() => null);
        if (resumed) ended = await this.#fromStream(resumed, emit, stop);
      }
      if (!ended && !stop.aborted) await this.#byReading(producer, runId, logged, emit, stop);
    } finally {
      clearInterval(renewal);
      if (!lost.signal.aborted) await leases.release(runId, this.#owner).catch(() => undefined);
    }
  }

  /**
   * Logs the run as a write through the gateway answered it (create, tool outputs, cancel), at no
   * upstream cost: subscribers see it at once, and one that follows the run starts a producer then.
   * Skipped while this instance produces the run (its producer sees the change). Never throws: a
   * log that cannot be written costs the event, never the write.
   */
  async note(threadId: string, run: Run): Promise<void> {
    if (this.#stopped || this.#active.has(run.id)) return;
    const lost = new AbortController();
    try {
      const logged = await this.#logged(run.id);
      await this.#emit(threadId, run.id, logged, [{ type: 'RunStatusChanged', run }], lost);
    } catch {
      // The log (Redis) is down: the write stands; subscribers read the run.
    }
  }

  /** What the log already holds (bounded by RUN_EVENTS_MAX). */
  async #logged(runId: string): Promise<Logged> {
    const logged: Logged = { epoch: null, seq: 0, status: null, completed: new Set(), position: null };
    for (;;) {
      const read = await this.#deps.log.read(runId, logged.seq - 1, 1000);
      if (read) logged.epoch = read.epoch;
      const page = read?.events ?? [];
      for (const { event } of page) {
        if (event.position) logged.position = event.position;
        if (event.type === 'RunStatusChanged') logged.status = event.run.status;
        else if (event.type === 'MessageCompleted') logged.completed.add(event.message.id);
      }
      logged.seq += page.length;
      if (page.length < 1000) return logged;
    }
  }

  /** Logs what is new of `events`; true once the run ended (or waits on tool outputs). */
  async #emit(threadId: string, runId: string, logged: Logged, events: RunEvent[], lost: AbortController) {
    const fresh = events.filter((event) => {
      if (event.type === 'RunStatusChanged') {
        if (event.run.status === logged.status) return false;
        logged.status = event.run.status;
      } else if (event.type === 'MessageCompleted') {
        if (logged.completed.has(event.message.id)) return false;
        logged.completed.add(event.message.id);
      }
      return true;
    });
    // What the log keeps of them (past RUN_EVENTS_MAX, no deltas): the places that follow are theirs.
    const stored = kept(fresh, logged.seq, this.#deps.maxEvents);
    if (stored.length === 0) return fresh.some(endsRunEvents);
    const epoch = await this.#deps.log.append(runId, logged.seq, stored, logged.epoch);
    if (epoch === null) {
      lost.abort();
      return true;
    }
    logged.epoch = epoch;
    const first = logged.seq;
    logged.seq += stored.length;
    for (const event of stored) if (event.position) logged.position = event.position;
    for (const [index, event] of stored.entries()) {
      if (event.type === 'RunStatusChanged') {
        const cursor = encodeCursor(runId, epoch, first + index);
        await this.#deps.bus.publish(threadId, { type: 'RunStatusChanged', run: event.run, cursor });
      } else if (event.type === 'MessageCompleted') {
        await this.#deps.bus.publish(threadId, { type: 'MessageCreated', message: event.message });
      }
    }
    return fresh.some(endsRunEvents);
  }

  async #fromStream(
    streamed: StreamedRun,
    emit: (events: RunEvent[]) => Promise<boolean>,
    stop: AbortSignal,
  ): Promise<boolean> {
    const onStop = () => streamed.close();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      for await (const event of streamed.events ?? []) {
        if (stop.aborted) return false;
        if (await emit([event])) return true;
      }
    } catch (error) {
      this.#deps.logger.warn('run events: the upstream stream broke; reading the run instead', {
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      stop.removeEventListener('abort', onStop);
      streamed.close();
    }
    return false;
  }

  #session(credential: string | undefined): UpstreamSession {
    const { onCall } = this.#deps;
    return {
      credential,
      deadline: Date.now() + this.#deps.callDeadlineMs,
      budget: new RequestBudget(1, Number.MAX_SAFE_INTEGER),
      ...(onCall ? { onCall } : {}),
    };
  }

  async #byReading(
    producer: Producer,
    runId: string,
    logged: Logged,
    emit: (events: RunEvent[]) => Promise<boolean>,
    stop: AbortSignal,
  ): Promise<void> {
    const { threadId, credential } = producer;
    const { upstream } = this.#deps;
    const until = Date.now() + FOLLOW_MS;
    let wait = FIRST_READ_MS;
    producer.reading = true;
    try {
      // Read while someone here follows the run (a later follower starts reading again), unless a
      // stream of it was handed over.
      while (!stop.aborted && Date.now() < until && (this.#deps.followers.has(runId) || producer.handed)) {
        const handed = producer.handed;
        if (handed) {
          producer.handed = undefined;
          if (await emit([{ type: 'RunStatusChanged', run: handed.run }])) return handed.close();
          if (await this.#fromStream(handed, emit, stop)) return;
          wait = FIRST_READ_MS;
          continue;
        }
        const run = await upstream.retrieveRun(this.#session(credential), threadId, runId).catch(() => undefined);
        if (run === null) {
          this.#gone.add(runId);
          if (this.#gone.size > MAX_GONE) this.#gone.delete(this.#gone.values().next().value as string);
          return;
        }
        if (run && run.status !== logged.status) {
          const settled = run.status === 'requires_action' || endsRunEvents({ type: 'RunStatusChanged', run });
          const messages = settled ? await this.#runMessages(threadId, run, credential) : [];
          const events: RunEvent[] = messages.map((message) => ({ type: 'MessageCompleted', message }));
          if (await emit([...events, { type: 'RunStatusChanged', run }])) return;
          wait = FIRST_READ_MS;
        } else {
          wait = Math.min(wait * 2, LONGEST_READ_MS);
        }
        await nap(wait, stop, producer);
      }
    } finally {
      producer.reading = false;
      producer.handed?.close();
      producer.handed = undefined;
    }
  }

  async #runMessages(threadId: string, run: Run, credential: string | undefined): Promise<UpstreamMessage[]> {
    const messages: UpstreamMessage[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const params = { limit: RUN_MESSAGES_PAGE, order: 'asc' as const, run_id: run.id, ...(after ? { after } : {}) };
      const found = await this.#deps.upstream.listMessages(this.#session(credential), threadId, params);
      if (!found) break;
      messages.push(...found.data);
      after = found.data.at(-1)?.id;
      if (!found.hasMore || !after) break;
    }
    return messages;
  }

  /** Stops producing (shutdown): leases are released, so another instance takes the runs over. */
  stop(): void {
    this.#stopped = true;
    for (const { controller } of this.#active.values()) controller.abort();
  }
}
