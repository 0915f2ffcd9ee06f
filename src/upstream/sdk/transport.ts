import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher, errors } from 'undici';
import { ConnectionFault, UPSTREAM_ABORTED_CODE } from '../calls/faults.ts';
import { Answer, AnswerHeaders, EventStreamBody, StreamedAnswer } from './answers.ts';

export interface TransportOptions {
  /** Sockets kept per upstream origin (UPSTREAM_CONNECTIONS). */
  connections?: number;
  keepAliveTimeoutMs?: number;
  /** Answers longer than this many bytes are cut off, their socket destroyed (UPSTREAM_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/** Sized for 1,000 calls in flight at once, e.g. 1,000 clients on an upstream that takes 500 ms. */
export const DEFAULT_UPSTREAM_CONNECTIONS = 1024;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The transport's `fetch`, with one more argument: the attempt's timeout, which the transport
 * starts when a socket takes the request, so time spent waiting for a free socket is not counted.
 */
export type TransportFetch = (
  url: string | URL | Request,
  init?: RequestInit,
  timeoutMs?: number,
  /** What ends an event-stream answer once it started (the SDK's per-call controller, which its stream aborts). */
  streamSignal?: AbortSignal,
) => Promise<Response>;

const transportFetches = new WeakSet<object>();

/** Whether `fetch` came from `createUpstreamTransport` (and so takes a timeout of its own). */
export function isTransportFetch(fetch: object): fetch is TransportFetch {
  return transportFetches.has(fetch);
}

/** No socket became free in time: the request never left this process, so resending it is safe. */
export class PoolWaitError extends Error {
  override name = 'PoolWaitError';
  readonly code = 'UPSTREAM_POOL_WAIT';
}

/** The upstream took too long once a socket carried the request. The SDK reads "timed out" as a timeout. */
export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError';
  readonly code = 'UPSTREAM_ATTEMPT_TIMEOUT';
}

type Headerish = Record<string, string>;

/**
 * The request's headers as a plain object, without the SDK's `x-stainless-*` client telemetry:
 * it only ever meant something to api.openai.com, and it is most of the bytes of every request.
 */
function headerRecord(headers: HeadersInit | undefined): Headerish {
  const record: Headerish = {};
  if (!headers) return record;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      if (!name.startsWith('x-stainless-')) record[name] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers)
      if (name !== undefined && value !== undefined) record[name.toLowerCase()] = value;
  } else {
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (!lower.startsWith('x-stainless-')) record[lower] = value;
    }
  }
  return record;
}

/** `http://host:port/v1/threads/x` -> origin and path, without building a URL object per call. */
function splitUrl(url: string): { origin: string; path: string } {
  const scheme = url.startsWith('http://') ? 7 : url.startsWith('https://') ? 8 : -1;
  if (scheme < 0) throw new TypeError('The upstream transport speaks http and https only');
  const slash = url.indexOf('/', scheme);
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/**
 * One upstream exchange on undici's dispatch API: collects the answer (up to the cap), times the
 * attempt from the moment a socket takes it, and settles one promise (an event stream: see below).
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #signal: AbortSignal | undefined;
  readonly #streamSignal: AbortSignal | undefined;
  readonly #resolve: (answer: Response) => void;
  readonly #reject: (error: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onSocket = false;
  #settled: Error | true | undefined;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  /** An event stream's body, passed on as it comes (streamed runs); undefined for plain answers. */
  #stream: EventStreamBody | undefined;

  constructor(
    url: string,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
    streamSignal: AbortSignal | undefined,
    resolve: (answer: Response) => void,
    reject: (error: unknown) => void,
  ) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.#maxBytes = maxBytes;
    this.#signal = signal;
    this.#streamSignal = streamSignal;
    this.#resolve = resolve;
    this.#reject = reject;
    if (timeoutMs > 0) {
      // One timer for both waits: first for a free socket, then (refreshed) for the answer.
      this.#timer = setTimeout(() => this.#expire(), timeoutMs);
    }
    if (signal) signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  readonly #onAbort = (): void => {
    const error = new Error('The upstream request was aborted');
    error.name = 'AbortError';
    if (this.#stream) {
      // Ended on purpose: its reader sees an AbortError (the SDK's stream then ends quietly), not
      // the connection fault undici reports for the socket it closes next.
      this.#unlisten();
      this.#stream.fail(error);
      this.#controller?.abort(error);
      return;
    }
    this.#fail(error);
  };

  #expire(): void {
    this.#fail(
      this.#onSocket
        ? new AttemptTimeoutError(`The upstream attempt timed out after ${this.#timeoutMs} ms`)
        : new PoolWaitError(`No upstream connection became free within ${this.#timeoutMs} ms`),
    );
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = error;
    this.#cleanup();
    this.#controller?.abort(error);
    this.#reject(error);
  }

  #cleanup(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  /** A stream that ended (or whose reader left) needs no signal any more. */
  #unlisten(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#streamSignal?.removeEventListener('abort', this.#onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // A request that failed while queued is dropped as soon as a socket would carry it.
    if (this.#settled instanceof Error) {
      controller.abort(this.#settled);
      return;
    }
    this.#controller = controller;
    this.#onSocket = true;
    this.#timer?.refresh();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = headers;
    if (statusCode < 300 && String(headers['content-type'] ?? '').startsWith('text/event-stream')) {
      this.#startStream(controller, statusCode, headers);
      return;
    }
    const declared = Number(headers['content-length']);
    if (declared > this.#maxBytes) {
      // Refused on its declared length: not one byte of the body is read, the socket is destroyed.
      this.#controller = controller;
      this.#fail(new errors.ResponseExceededMaxSizeError());
    }
  }

  /**
   * An event stream (a run the upstream streams) is answered at once with a real body, read as it
   * comes: undici is paused while the reader is behind (64 KB queued), the attempt's timer no longer
   * runs (a run may stream for minutes), and the caller's signal (the SDK's `controller.abort()`)
   * still ends it. The agent's answer cap bounds its bytes.
   */
  #startStream(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    [this.#controller, this.#settled] = [controller, true];
    if (this.#timer) clearTimeout(this.#timer);
    this.#stream = new EventStreamBody({
      pause: () => controller.pause(),
      resume: () => controller.resume(),
      cancel: () => {
        this.#unlisten();
        controller.abort(new Error('The stream was closed by its reader'));
      },
    });
    // The SDK's stream ends the exchange through its controller (a reader that stops early).
    if (this.#streamSignal?.aborted) queueMicrotask(this.#onAbort);
    else this.#streamSignal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#resolve(
      new StreamedAnswer(status, new AnswerHeaders(headers), this.#url, this.#stream) as unknown as Response,
    );
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#stream) {
      this.#stream.push(chunk);
      return;
    }
    if (this.#settled) return;
    // undici's own maxResponseSize destroys the socket past the cap; this only collects.
    this.#bytes += chunk.length;
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#stream) {
      this.#unlisten();
      this.#stream.end();
      return;
    }
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanup();
    const chunks = this.#chunks;
    const text =
      chunks.length === 1
        ? (chunks[0] as Buffer).toString('utf8')
        : Buffer.concat(chunks, this.#bytes).toString('utf8');
    this.#resolve(new Answer(this.#status, new AnswerHeaders(this.#headers), this.#url, text) as unknown as Response);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#stream) {
      this.#unlisten();
      this.#stream.fail(new ConnectionFault(error));
      return;
    }
    this.#fail(new ConnectionFault(error));
  }
}

/**
 * A lean `fetch` for the SDK on a keep-alive undici Agent. The SDK sends small JSON bodies and
 * reads small JSON answers, so this skips what the WHATWG fetch and Response machinery costs on
 * every call (body streams, header guards, CORS and redirect bookkeeping), and bounds both: an
 * answer past `maxResponseBytes` fails and its socket is destroyed.
 */
export function createUpstreamTransport(options: TransportOptions = {}): {
  fetch: TransportFetch;
  close(): Promise<void>;
  /** Ends every in-flight upstream request now (shutdown's deadline): they fail as connection faults. */
  abort(): Promise<void>;
} {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const agent = new Agent({
    connections: options.connections ?? DEFAULT_UPSTREAM_CONNECTIONS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    pipelining: 1,
    maxResponseSize: maxBytes,
  });
  let aborted = false;
  // Calls that `abort()` cut off fail as aborted, which the retry policy does not retry.
  const fetch = (
    input: string | URL | Request,
    init: RequestInit = {},
    timeoutMs = 0,
    streamSignal?: AbortSignal,
  ): Promise<Response> => {
    if (aborted) return Promise.reject(abortedError());
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = init.body;
    if (body != null && typeof body !== 'string') {
      return Promise.reject(new TypeError('The upstream transport sends only string bodies'));
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      const error = new Error('The upstream request was aborted');
      error.name = 'AbortError';
      return Promise.reject(error);
    }
    const { origin, path } = splitUrl(url);
    return new Promise<Response>((resolve, reject) => {
      const fail = (error: unknown) => reject(aborted ? abortedError() : error);
      const exchange = new Exchange(url, timeoutMs, maxBytes, signal, streamSignal, resolve, fail);
      agent.dispatch(
        {
          origin,
          path,
          method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
          headers: headerRecord(init.headers),
          body: body ?? null,
        },
        exchange,
      );
    });
  };
  transportFetches.add(fetch);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (aborted) return Promise.resolve();
    closed ??= agent.close();
    return closed;
  };
  return {
    fetch,
    close,
    abort: () => {
      aborted = true;
      return agent.destroy();
    },
  };
}

function abortedError(): Error {
  return Object.assign(new Error('The gateway aborted its upstream work (shutdown).'), { code: UPSTREAM_ABORTED_CODE });
}
