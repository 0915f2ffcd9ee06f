import { newObjectId } from '../store/object-id.ts';
import type { StoredRun } from '../store/run-store.ts';
import { EventLog, type LogLimits, type LogReader } from '../streams/event-log.ts';

/**
 * What happens to a run, as the run driver tells it: the one seam between executing runs and
 * streaming them. The driver publishes; a streamed create or `submit_tool_outputs` follows the run
 * (runs/run-stream.ts turns the events into the API's stream events). A run nobody follows costs
 * a map lookup per event.
 */
export type RunEvent =
  /** The run after a status change, as a read would answer it then. */
  | { type: 'status'; run: StoredRun }
  /** The model began an answer: the assistant message it becomes has this id and time. */
  | { type: 'message'; id: string; created_at: number }
  /** A piece of that message's text, as the model produced it. */
  | { type: 'text'; id: string; value: string }
  /** The run is no longer stored (its thread was deleted under it): nothing more will happen to it. */
  | { type: 'gone' };

/** What the driver needs of the bus. */
export interface RunEventSink {
  publish(runId: string, event: RunEvent): void;
}

/** The bytes an event counts against the log's bound: about what it puts on the wire. */
function sizeOf(event: RunEvent): number {
  if (event.type === 'status') return Buffer.byteLength(JSON.stringify(event.run));
  if (event.type === 'text') return Buffer.byteLength(event.value) + 160;
  return 400;
}

/** The backend's run events: a log per followed run, held only while someone reads it. */
export class RunEvents implements RunEventSink {
  readonly #limits: LogLimits;
  readonly #logs = new Map<string, EventLog<RunEvent>>();
  #stopped = false;

  constructor(limits: LogLimits) {
    this.#limits = limits;
  }

  publish(runId: string, event: RunEvent): void {
    this.#logs.get(runId)?.append(event, sizeOf(event));
  }

  /** The run's events from now on, until the reader closes (at once after shutdown: nothing runs). */
  follow(runId: string): LogReader<RunEvent> {
    let log = this.#logs.get(runId);
    if (this.#stopped) {
      const ended = new EventLog<RunEvent>(this.#limits, { keep: false });
      ended.end();
      return ended.reader(-1);
    }
    if (!log || log.ended) {
      const created = new EventLog<RunEvent>(this.#limits, {
        keep: false,
        onIdle: () => {
          if (this.#logs.get(runId) === created) this.#logs.delete(runId);
        },
      });
      this.#logs.set(runId, created);
      log = created;
    }
    return log.reader(log.length - 1);
  }

  /** Runs followed now (tests check that finished streams leave nothing behind). */
  get followed(): number {
    return this.#logs.size;
  }

  /** Shutdown: every follower's stream ends. */
  endAll(): void {
    this.#stopped = true;
    for (const log of this.#logs.values()) log.end();
    this.#logs.clear();
  }
}

/**
 * The assistant message one model turn may write. Its id and time are fixed when the model's first
 * text arrives (and published then), so the stored message is the one the stream announced; a turn
 * that writes its message without any text fixes them at the write.
 */
export class AnswerMessage {
  readonly #publish: (event: RunEvent) => void;
  #announced: { id: string; created_at: number } | undefined;

  constructor(publish: (event: RunEvent) => void) {
    this.#publish = publish;
  }

  announce(): { id: string; created_at: number } {
    if (!this.#announced) {
      this.#announced = { id: newObjectId('msg'), created_at: Math.floor(Date.now() / 1000) };
      this.#publish({ type: 'message', ...this.#announced });
    }
    return this.#announced;
  }

  text(value: string): void {
    const { id } = this.announce();
    this.#publish({ type: 'text', id, value });
  }
}
