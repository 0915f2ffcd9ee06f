/**
 * The events of one stream (a run's, a response's) in order, numbered from 0, and bounded. Readers
 * are cursors into it: an event is held once however many read it, and a reader that stops reading
 * costs its place, not a buffer of its own. Past `maxEvents` or `maxBytes` the oldest events are
 * dropped; a reader that had not read them is told so (`overrun`) rather than handed a gap.
 *
 * A log that keeps its events holds them for readers that come later (a background response's
 * stream is replayed from any point); one that does not drops each event once every reader has it.
 */
export interface LogLimits {
  /** Events held at most. */
  maxEvents: number;
  /** Bytes (as the writer counts them) held at most. */
  maxBytes: number;
}

export type LogRead<E> =
  | { kind: 'event'; event: E; seq: number }
  /** The log ended, or the reader was closed: nothing more comes. */
  | { kind: 'end' }
  /** Events this reader had not read were dropped (`seq` is the first of them); the reader is closed. */
  | { kind: 'overrun'; seq: number };

export interface LogReader<E> {
  /** The next event, waiting for it while the log is live. */
  next(): Promise<LogRead<E>>;
  /** Stops reading (a pending `next` answers `end`). Idempotent. */
  close(): void;
}

interface Entry<E> {
  event: E;
  bytes: number;
}

interface Cursor {
  /** The number of the next event this reader takes. */
  position: number;
  closed: boolean;
  wake: (() => void) | undefined;
}

export interface EventLogOptions {
  /** Keep read events for later readers (up to the limits). */
  keep: boolean;
  /** Called when the last reader closes. */
  onIdle?: () => void;
}

export class EventLog<E> {
  readonly #limits: LogLimits;
  readonly #options: EventLogOptions;
  readonly #entries: Entry<E>[] = [];
  /** The number of `#entries[0]`. */
  #first = 0;
  #bytes = 0;
  #ended = false;
  readonly #cursors = new Set<Cursor>();

  constructor(limits: LogLimits, options: EventLogOptions) {
    this.#limits = limits;
    this.#options = options;
  }

  /** The number the next event gets: how many events were appended. */
  get length(): number {
    return this.#first + this.#entries.length;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Events held now (tests check the bound). */
  get held(): number {
    return this.#entries.length;
  }

  /** Appends one event (ignored once the log ended); answers its number. */
  /** Bytes held now (as the writer counts them). */
  get bytes(): number {
    return this.#bytes;
  }

  append(event: E, bytes: number): number {
    const seq = this.length;
    if (this.#ended) return seq;
    this.#entries.push({ event, bytes });
    this.#bytes += bytes;
    const { maxEvents, maxBytes } = this.#limits;
    while (this.#entries.length > 1 && (this.#entries.length > maxEvents || this.#bytes > maxBytes)) {
      this.#dropFirst();
    }
    this.#trim();
    this.#wake();
    return seq;
  }

  /** No more events: readers finish with what is held. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** A reader of the events numbered above `after` (-1: from the first), until it is closed or the log ends. */
  reader(after: number): LogReader<E> {
    const cursor: Cursor = { position: Math.max(0, after + 1), closed: false, wake: undefined };
    this.#cursors.add(cursor);
    return {
      next: () => this.#next(cursor),
      close: () => this.#close(cursor),
    };
  }

  async #next(cursor: Cursor): Promise<LogRead<E>> {
    for (;;) {
      if (cursor.closed) return { kind: 'end' };
      if (cursor.position < this.#first) {
        const seq = cursor.position;
        this.#close(cursor);
        return { kind: 'overrun', seq };
      }
      const entry = this.#entries[cursor.position - this.#first];
      if (entry) {
        const seq = cursor.position;
        cursor.position += 1;
        this.#trim();
        return { kind: 'event', event: entry.event, seq };
      }
      if (this.#ended) return { kind: 'end' };
      await new Promise<void>((resolve) => {
        cursor.wake = resolve;
      });
    }
  }

  #close(cursor: Cursor): void {
    if (cursor.closed) return;
    cursor.closed = true;
    this.#cursors.delete(cursor);
    cursor.wake?.();
    this.#trim();
    if (this.#cursors.size === 0) this.#options.onIdle?.();
  }

  #dropFirst(): void {
    const dropped = this.#entries.shift();
    if (!dropped) return;
    this.#first += 1;
    this.#bytes -= dropped.bytes;
  }

  /** A log that does not keep its events drops those every reader has taken. */
  #trim(): void {
    if (this.#options.keep) return;
    let lowest = this.length;
    for (const cursor of this.#cursors) lowest = Math.min(lowest, cursor.position);
    while (this.#first < lowest && this.#entries.length > 0) this.#dropFirst();
  }

  #wake(): void {
    for (const cursor of this.#cursors) {
      const wake = cursor.wake;
      cursor.wake = undefined;
      wake?.();
    }
  }
}

/** The bounds of the backend's event streams (LocalBackendOptions.streams; docs/runs.md). */
export interface StreamLimits extends LogLimits {
  /** How long a background response's events stay for replay after it ends. */
  retainMs: number;
  /** Bytes of all the ended responses' events kept for replay; past it, the oldest go first. */
  retainedMaxBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxEvents: 10_000,
  maxBytes: 4 * 1024 * 1024,
  retainMs: 5 * 60_000,
  retainedMaxBytes: 64 * 1024 * 1024,
};
