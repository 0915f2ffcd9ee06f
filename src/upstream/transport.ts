import { Agent, type Dispatcher, request } from 'undici';
import { UPSTREAM_ABORTED_CODE } from './errors.ts';
import type { UpstreamFetch } from './threads-upstream.ts';

export interface TransportOptions {
  /** Sockets kept per upstream origin. */
  connections?: number;
  keepAliveTimeoutMs?: number;
}

type RawHeaders = Record<string, string | string[] | undefined>;

/** Read-only response headers over undici's plain object: what the SDK reads, no WHATWG Headers. */
class AnswerHeaders {
  readonly #raw: RawHeaders;
  constructor(raw: RawHeaders) {
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

/**
 * The part of a fetch Response the SDK uses (status, headers, json, text), over a body already
 * read. Upstream answers are small JSON documents, so there is no stream to expose.
 */
class Answer {
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

/**
 * The request's headers as a plain object, without the SDK's `x-stainless-*` client telemetry:
 * it only ever meant something to api.openai.com, and it is most of the bytes of every request.
 */
function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      if (!name.startsWith('x-stainless-')) record[name] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers)
      if (name !== undefined && value !== undefined) record[name.toLowerCase()] = value;
  } else {
    for (const [name, value] of Object.entries(headers)) record[name.toLowerCase()] = value;
  }
  return record;
}

/**
 * A lean `fetch` for the SDK on a keep-alive undici Agent. The SDK sends small JSON bodies and
 * reads small JSON answers, so this skips what the WHATWG fetch and Response machinery costs on
 * every call (body streams, header guards, CORS and redirect bookkeeping).
 */
export function createUpstreamTransport(options: TransportOptions = {}): {
  fetch: UpstreamFetch;
  close(): Promise<void>;
  /** Ends every in-flight upstream request now (shutdown's deadline): they fail as connection faults. */
  abort(): Promise<void>;
} {
  const agent = new Agent({
    connections: options.connections ?? 128,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    pipelining: 1,
  });
  let aborted = false;
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    if (aborted) throw abortedError();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = init.body;
    if (body != null && typeof body !== 'string') {
      throw new TypeError('The upstream transport sends only string bodies');
    }
    let answer: Dispatcher.ResponseData;
    let text: string;
    try {
      answer = await request(url, {
        method: (init.method ?? 'GET') as 'GET',
        headers: headerRecord(init.headers),
        body: body ?? undefined,
        signal: init.signal ?? undefined,
        dispatcher: agent,
      });
      text = await answer.body.text();
    } catch (error) {
      // Calls that `abort()` cut off fail as aborted, which the retry policy does not retry.
      if (aborted) throw abortedError();
      throw error;
    }
    return new Answer(answer.statusCode, new AnswerHeaders(answer.headers), url, text) as unknown as Response;
  };
  return {
    fetch,
    close: () => (aborted ? Promise.resolve() : agent.close()),
    abort: () => {
      aborted = true;
      return agent.destroy();
    },
  };
}

function abortedError(): Error {
  return Object.assign(new Error('The gateway aborted its upstream work (shutdown).'), { code: UPSTREAM_ABORTED_CODE });
}
