import type { IncomingHttpHeaders } from 'node:http';

// What the transport hands the SDK instead of a WHATWG Response: the parts the SDK reads (status,
// ok, headers, url, text/json, and for an event stream its body as an async iterable, which the
// SDK's stream reader and its body cancel both take), without Headers, Response or web streams.

/** Read-only response headers over undici's plain object: what the SDK reads, no WHATWG Headers. */
export class AnswerHeaders {
  readonly #raw: IncomingHttpHeaders;
  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }
  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.#raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#raw)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
  keys(): IterableIterator<string> {
    return Object.keys(this.#raw)[Symbol.iterator]();
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** The part of a fetch Response the SDK uses (status, headers, json, text), over a body already read. */
export class Answer {
  readonly status: number;
  readonly statusText = '';
  readonly headers: AnswerHeaders;
  readonly url: string;
  readonly body = null;
  readonly bodyUsed = false;
  readonly redirected = false;
  readonly type = 'basic';
  readonly #text: string;
  constructor(status: number, headers: AnswerHeaders, url: string, text: string) {
    this.status = status;
    this.headers = headers;
    this.url = url;
    this.#text = text;
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  async text(): Promise<string> {
    return this.#text;
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.#text);
  }
  clone(): Answer {
    return new Answer(this.status, this.headers, this.url, this.#text);
  }
}

/** Queued bytes past which the upstream socket is paused until the reader catches up. */
const HIGH_WATER_BYTES = 64 * 1024;

/** What the body needs of the exchange: pause and resume the socket, end it early. */
export interface BodySource {
  pause(): void;
  resume(): void;
  cancel(): void;
}

/**
 * An event stream's body, read as it comes: the chunks undici hands over, queued until the reader
 * takes them. Past 64 KB queued the socket is paused, and resumed once the reader drained the
 * queue. One reader (the SDK's stream); `return()` (the reader stopped) ends the exchange.
 */
export class EventStreamBody implements AsyncIterableIterator<Uint8Array> {
  readonly #source: BodySource;
  #queue: Buffer[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #error: unknown;
  #waiting: { resolve: (item: IteratorResult<Uint8Array>) => void; reject: (error: unknown) => void } | undefined;

  constructor(source: BodySource) {
    this.#source = source;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  push(chunk: Buffer): void {
    if (this.#ended) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER_BYTES && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    }
  }

  end(): void {
    this.#finish(undefined);
  }

  fail(error: unknown): void {
    this.#finish(error ?? new Error('The upstream stream failed'));
  }

  #finish(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (!waiting) return;
    if (error === undefined) waiting.resolve({ done: true, value: undefined });
    else waiting.reject(error);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#queued -= chunk.length;
      if (this.#paused && this.#queue.length === 0) {
        this.#paused = false;
        this.#source.resume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#ended) {
      return this.#error === undefined
        ? Promise.resolve({ done: true, value: undefined })
        : Promise.reject(this.#error);
    }
    if (this.#waiting) return Promise.reject(new Error('The upstream stream has one reader'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    const ended = this.#ended;
    this.#queue = [];
    this.#queued = 0;
    this.#finish(undefined);
    if (!ended) this.#source.cancel();
    return Promise.resolve({ done: true, value: undefined });
  }
}

/** A 2xx event stream's answer: what the SDK's stream reader and `withResponse()` callers read. */
export class StreamedAnswer {
  readonly status: number;
  readonly statusText = '';
  readonly headers: AnswerHeaders;
  readonly url: string;
  readonly body: EventStreamBody;
  readonly redirected = false;
  readonly type = 'basic';
  constructor(status: number, headers: AnswerHeaders, url: string, body: EventStreamBody) {
    this.status = status;
    this.headers = headers;
    this.url = url;
    this.body = body;
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get bodyUsed(): boolean {
    return false;
  }
  /** The whole stream as text (a server that streams an answer nobody asked to stream). */
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}
