import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin, processRegularResult } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';
import { JsonSize, jsonPieces } from './json-walk.ts';

/**
 * Bytes of one answer, and how it is written.
 *
 * Yoga serialises an answer with one `JSON.stringify` and hands Node the whole string: a 500 MB
 * answer blocks the event loop for seconds, holds the string and its copy in the socket's queue for
 * as long as the client takes to read it (forever, for one that never reads), and past V8's longest
 * string fails as a masked INTERNAL_SERVER_ERROR. Here the answer is measured first, without
 * building it (the walk stops at the limit), and refused with RESPONSE_TOO_LARGE when over; an
 * answer within the limit is written as JSON pieces pulled one at a time by the socket, so a client
 * that does not read holds one piece and the socket's buffer of the gateway's memory, not the text
 * of its answer. Neither the measure nor a piece takes the event loop long: a large answer is
 * measured a slice at a time (json-walk.ts), with turns of the event loop in between.
 */

/** Text written per pull: small enough that no pull holds the loop, large enough to keep syscalls few. */
const CHUNK_CHARS = 64 * 1024;
/** Values of an answer measured in one go: a slice takes a millisecond or two. */
const MEASURE_SLICE = 10_000;
/** Answers up to this many bytes are written as one string (a socket buffer takes them whole). */
const SMALL_ANSWER_BYTES = 64 * 1024;

type Processor = typeof processRegularResult;
type FetchAPI = Parameters<Processor>[1];

/** How one large answer is written: its request's signal, the stall bound, and what to call once it is done. */
interface Writing {
  signal: AbortSignal;
  stallMs: number;
  /** Called once, however the writing ends (written, client gone, stalled). */
  finished: () => void;
  /** Ends the connection of a stalled answer (Node's response, when served by a Node listener). */
  cutOff?: () => void;
}

/**
 * Yoga's regular processor for the status and headers (its rules for errors and media types), and
 * the body written in pieces. The stringifier hook hands over the result with Yoga's internal error
 * extensions already removed; it builds no text. The answer is held by its piece generator only,
 * and dropped with it: when the last piece is taken, when the client goes, or when the client has
 * taken no piece for `stallMs` (the answer is then cut off).
 */
function streamedRegularResult(
  writing: Writing,
): (result: Parameters<Processor>[0], fetchAPI: FetchAPI, accepted: string) => Response {
  return (result, fetchAPI, accepted) => {
    if (Array.isArray(result) || isAsyncIterable(result)) {
      writing.finished();
      return processRegularResult(result, fetchAPI, accepted);
    }
    let sanitised: unknown = result;
    const head = processRegularResult(
      {
        ...result,
        stringify: (clean: unknown) => {
          sanitised = clean;
          return '';
        },
      },
      fetchAPI,
      accepted,
    );
    let pieces: Generator<string, void, undefined> | undefined = jsonPieces(sanitised, CHUNK_CHARS);
    sanitised = undefined;
    const encoder = new TextEncoder();
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    let stall: NodeJS.Timeout | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      pieces?.return();
      pieces = undefined;
      clearTimeout(stall);
      writing.signal.removeEventListener('abort', end);
      writing.finished();
    };
    writing.signal.addEventListener('abort', end, { once: true });
    const body = new fetchAPI.ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          stream = controller;
          stall = setTimeout(() => {
            end();
            // Its connection ends too: a body that errors leaves a piped response open.
            writing.cutOff?.();
            stream?.error(new Error('The client read none of its answer for ANSWER_STALL_MS.'));
          }, writing.stallMs);
          stall.unref();
        },
        // Each piece after a turn of the event loop: while the client reads as fast as the gateway
        // writes, the socket never pushes back, and the writes would follow each other as one chain
        // of microtasks that no other request (not even /health) could get between.
        pull: (controller) =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              if (ended) return resolve();
              stall?.refresh();
              const next = pieces?.next();
              if (!next || next.done) {
                end();
                controller.close();
              } else {
                controller.enqueue(encoder.encode(next.value));
              }
              resolve();
            }),
          ),
        cancel: end,
      },
      // Nothing is produced ahead of the socket: each piece is made when the last one was taken.
      { highWaterMark: 0 },
    );
    const headers: Record<string, string> = {};
    head.headers.forEach((value, name) => {
      if (name.toLowerCase() !== 'content-length') headers[name.toLowerCase()] = value;
    });
    return new fetchAPI.Response(body, { status: head.status, statusText: head.statusText, headers });
  };
}

/** The media type Yoga's regular processor answers this request with (its own matching, last match wins). */
function regularMediaType(request: Request): string | undefined {
  let accepted: string | undefined;
  const asked = (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase().split(',').reverse();
  for (const entry of asked) {
    const [mediaType = '', ...params] = entry.split(';');
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8') continue;
    const [pre, suf] = mediaType.split('/');
    for (const candidate of ['application/graphql-response+json', 'application/json']) {
      const [candidatePre, candidateSuf] = candidate.split('/');
      if ((pre === '*' || pre === candidatePre) && (suf === '*' || suf === candidateSuf)) accepted = candidate;
    }
  }
  return accepted;
}

function serverBusy(): ExecutionResult {
  return {
    errors: [
      new GraphQLError(
        'The gateway is writing as many large answers as it may hold at once (MAX_ANSWER_BYTES_IN_FLIGHT): retry shortly.',
        { extensions: { code: ErrorCode.SERVER_BUSY, retryAfter: 1 } },
      ),
    ],
  };
}

function tooLarge(maxBytes: number, what: string): ExecutionResult {
  return {
    errors: [
      new GraphQLError(
        `${what} is longer than the ${maxBytes} bytes one answer may hold (MAX_RESPONSE_BYTES): ask for smaller pages, fewer fields or fewer aliases.`,
        { extensions: { code: ErrorCode.RESPONSE_TOO_LARGE, limit: maxBytes } },
      ),
    ],
  };
}

/**
 * The JSON bytes of `value`, up to a little past `maxBytes` (the walk stops there): at once when
 * one slice measures it, else a slice at a time with a turn of the event loop between slices.
 */
function measure(value: unknown, maxBytes: number): number | Promise<number> {
  const size = new JsonSize(value, maxBytes);
  if (size.step(MEASURE_SLICE)) return size.total;
  return (async () => {
    while (!size.step(MEASURE_SLICE)) await new Promise((resolve) => setImmediate(resolve));
    return size.total;
  })();
}

/** Whether each event result fits, by result object: subscribers handed one shared result measure it once. */
const eventVerdicts = new WeakMap<object, boolean | Promise<boolean>>();

function eventFits(result: object, maxBytes: number): boolean | Promise<boolean> {
  const known = eventVerdicts.get(result);
  if (known !== undefined) return known;
  const total = measure(result, maxBytes);
  const verdict = typeof total === 'number' ? total <= maxBytes : total.then((bytes) => bytes <= maxBytes);
  eventVerdicts.set(result, verdict);
  if (typeof verdict !== 'boolean') void verdict.then((fits) => eventVerdicts.set(result, fits));
  return verdict;
}

/**
 * A subscription's results, each held to MAX_RESPONSE_BYTES like an answer (SSE and WebSocket
 * alike: both take the results from here). An event past it ends the subscription with
 * RESPONSE_TOO_LARGE instead: a client missing one event of a run's text would show a wrong text,
 * and `runEvents` resumes from its last cursor.
 */
function boundedEvents(
  source: AsyncIterable<ExecutionResult>,
  maxBytes: number,
): AsyncIterableIterator<ExecutionResult> {
  const events = source[Symbol.asyncIterator]();
  const done = { done: true as const, value: undefined };
  let over = false;
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (over) return done;
      const item = await events.next();
      if (item.done) return item;
      // Known at once for most events (a shared result measured by the first subscriber): no await.
      const fits = eventFits(item.value, maxBytes);
      if (fits === true || (fits !== false && (await fits))) return item;
      over = true;
      await events.return?.();
      return { done: false, value: tooLarge(maxBytes, 'An event of this subscription') };
    },
    async return() {
      over = true;
      await events.return?.();
      return done;
    },
    async throw(error) {
      over = true;
      await events.return?.();
      throw error;
    },
  };
  return iterator;
}

/**
 * MAX_RESPONSE_BYTES, for every answer whatever its media type (an answer Yoga writes as an event
 * stream or multipart part is at most the limit, so one string of it is bounded too) and for every
 * event of a subscription, and the streamed writing of JSON answers. Registered last, so it sees
 * the result as it will be sent.
 */
export function useResponseSize(
  maxBytes: number,
  { inFlightBytes, stallMs }: { inFlightBytes: number; stallMs: number },
): Plugin {
  // Bytes of the large answers being written now: what clients that do not read can hold.
  let inFlight = 0;
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(boundedEvents(result, maxBytes));
        },
      };
    },
    onResultProcess({ request, result, setResult, resultProcessor, setResultProcessor, serverContext }) {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      const decide = (total: number) => {
        if (total > maxBytes) {
          // The answer built so far is dropped here, and with it the memory it held.
          setResult(tooLarge(maxBytes, 'The answer'));
          return;
        }
        // An answer of one piece or less is one write whatever the socket does: Yoga's own string
        // body serves it without a stream, a generator and a turn of the event loop per answer.
        if (total <= SMALL_ANSWER_BYTES) return;
        const accepted = resultProcessor === processRegularResult ? regularMediaType(request) : undefined;
        if (!accepted) return;
        if (inFlight + total > Math.max(inFlightBytes, maxBytes)) {
          setResult(serverBusy());
          return;
        }
        inFlight += total;
        let given = false;
        const finished = () => {
          if (given) return;
          given = true;
          inFlight -= total;
        };
        // A request gone before its answer is processed gives its share back too.
        request.signal.addEventListener('abort', finished, { once: true });
        const response = (serverContext as { res?: { destroy(): void } }).res;
        const cutOff = response ? () => response.destroy() : undefined;
        setResultProcessor(
          streamedRegularResult({
            signal: request.signal,
            stallMs,
            finished,
            ...(cutOff ? { cutOff } : {}),
          }) as Processor,
          accepted,
        );
      };
      const total = measure(result, maxBytes);
      return typeof total === 'number' ? decide(total) : total.then(decide);
    },
  };
}
