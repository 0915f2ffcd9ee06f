import type OpenAI from 'openai';
import { APIError, OpenAIError } from 'openai/error';
import { Stream } from 'openai/streaming';

/**
 * The SDK's event-stream reading, in one pass (docs/performance.md, "Streams").
 *
 * A streamed call (a run, tool outputs, a response, a resumed response) is the SDK's own request;
 * only its answer is read here, by the SDK's hook for that (`__streamClass`): the same events, the
 * same values, the same errors, in the same order, as `Stream.fromSSEResponse` gives. The SDK reads
 * an answer through four async generators, copies its bytes twice per chunk (once to find an
 * event's end, once more to find its lines) and decodes each line on its own; here, each chunk is
 * decoded once (a streaming UTF-8 decoder) and split into lines as text, and an event is parsed
 * where its blank line ends it. test/upstream/lean-stream.test.ts feeds both readers the same
 * answers, split at every byte, and requires the same outcome, also when the body fails midway.
 *
 * One difference, of timing only: an event is handed over at its blank line however that line is
 * spelled, as the SSE standard says. The SDK hands bytes to its line reader only once they hold
 * `\n\n`, `\r\r` or `\r\n\r\n`, so an event ended by a blank line spelled otherwise (`\n\r\n`,
 * a line holding only a byte order mark) waits there for the next event or the end of the body;
 * a body that then fails gives it here and not there. Servers end events in one of the three.
 */

interface ServerSentEvent {
  event: string | null;
  data: string;
}

/** The SDK's rule for an aborted read: it ends the iteration quietly. */
function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  return (
    ('name' in error && error.name === 'AbortError') ||
    ('message' in error && String(error.message).includes('FetchRequestCanceledException'))
  );
}

/**
 * Lines of an event stream as text, each as the SDK decodes it: a line ends at `\r\n`, `\n` or
 * `\r` (a `\r` at the end of what has come waits for the next byte), and each line is decoded as
 * UTF-8 on its own, so a byte order mark at a line's start is dropped. Line ends are ASCII, which
 * no UTF-8 sequence contains: decoding the stream as a whole (keeping every BOM) and then dropping
 * one at each line's start gives the same text.
 */
/** Pieces of one line kept apart at most: past it they are joined (a line sent a byte at a time holds no string per byte). */
const MAX_PIECES = 64;

class LineReader {
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** The text of the line being read, in pieces (a long line costs no copy per chunk). */
  #pieces: string[] = [];
  /** Whether the last piece ends with `\r` (a `\n` may follow). */
  #heldReturn = false;

  /** Adds the lines that `chunk` completes to `out`. */
  lines(chunk: Uint8Array, out: string[]): void {
    this.#read(this.#decoder.decode(chunk, { stream: true }), out);
  }

  /** At the end of the stream: the last line, if any (the SDK ends it as if a `\n` came). */
  flush(out: string[]): void {
    const text = this.#decoder.decode();
    if (text !== '' || this.#pieces.length > 0) this.#read(`${text}\n`, out);
  }

  #read(piece: string, out: string[]): void {
    if (piece === '') return;
    if (!this.#heldReturn && piece.indexOf('\n') === -1 && piece.indexOf('\r') === -1) {
      this.#pieces.push(piece);
      if (this.#pieces.length > MAX_PIECES) this.#pieces = [this.#pieces.join('')];
      return;
    }
    const text = this.#pieces.length > 0 ? this.#pieces.join('') + piece : piece;
    this.#pieces = [];
    let start = 0;
    // The next `\n` and `\r` at or after `start`, each searched for again only once passed.
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      if (lf === -1 && cr === -1) break;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        out.push(line(text, start, lf));
        start = lf + 1;
      } else if (cr === text.length - 1) {
        break;
      } else {
        out.push(line(text, start, cr));
        start = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      }
    }
    this.#heldReturn = false;
    if (start < text.length) {
      this.#pieces.push(start === 0 ? text : text.slice(start));
      this.#heldReturn = text.charCodeAt(text.length - 1) === 13;
    }
  }
}

function line(text: string, from: number, to: number): string {
  return text.charCodeAt(from) === 0xfeff ? text.slice(from + 1, to) : text.slice(from, to);
}

/** Events from lines, as the SDK's decoder makes them: dispatched at a blank line, if they have an event name or data. */
class EventReader {
  #event: string | null = null;
  #data: string[] = [];

  /** The event a line completes, or undefined. */
  line(text: string): ServerSentEvent | undefined {
    if (text === '') {
      if (!this.#event && this.#data.length === 0) return undefined;
      const event = { event: this.#event, data: this.#data.join('\n') };
      this.#event = null;
      this.#data = [];
      return event;
    }
    if (text.charCodeAt(0) === 58 /* : */) return undefined;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    if (field !== 'event' && field !== 'data') return undefined;
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else this.#data.push(value);
    return undefined;
  }
}

/** A chunk's bytes as the SDK takes them: bytes, an ArrayBuffer, text as UTF-8, and anything else by its elements. */
function toBytes(chunk: unknown): Uint8Array | undefined {
  if (chunk == null) return undefined;
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  return Uint8Array.from(chunk as ArrayLike<number>);
}

/** The body's chunks: its own iterator, or its reader's (a web stream without one), as the SDK reads them. */
function chunksOf(body: ReadableStream<Uint8Array> & Partial<AsyncIterable<unknown>>): AsyncIterable<unknown> {
  if (typeof body[Symbol.asyncIterator] === 'function') return body as AsyncIterable<unknown>;
  const reader = body.getReader();
  return {
    [Symbol.asyncIterator]: () => ({
      async next() {
        try {
          const result = await reader.read();
          if (result.done) reader.releaseLock();
          return result;
        } catch (error) {
          reader.releaseLock();
          throw error;
        }
      },
      async return() {
        const cancelled = reader.cancel();
        reader.releaseLock();
        await cancelled;
        return { done: true as const, value: undefined };
      },
    }),
  };
}

/** The answer's events, in order. */
async function* serverSentEvents(response: Response, controller: AbortController): AsyncGenerator<ServerSentEvent> {
  const body = response.body as (ReadableStream<Uint8Array> & Partial<AsyncIterable<unknown>>) | null;
  if (!body) {
    controller.abort();
    throw new OpenAIError('Attempted to iterate over a response with no body');
  }
  const lines = new LineReader();
  const events = new EventReader();
  const completed: string[] = [];
  for await (const chunk of chunksOf(body)) {
    const bytes = toBytes(chunk);
    if (!bytes) continue;
    lines.lines(bytes, completed);
    for (let index = 0; index < completed.length; index++) {
      const event = events.line(completed[index] as string);
      if (event) yield event;
    }
    completed.length = 0;
  }
  lines.flush(completed);
  for (const text of completed) {
    const event = events.line(text);
    if (event) yield event;
  }
}

/**
 * A `Stream` whose answer is read by `serverSentEvents`; everything else (the object callers
 * hold, its controller, `tee`, `toReadableStream`) is the SDK's. What it yields and throws is
 * `Stream.fromSSEResponse`'s: `[DONE]` ends the events (the rest of the body is still read), an
 * event named `thread.*` is yielded as `{event, data}`, any other as its data (or as `{event, data}`
 * when the call asks so), an object with `error` throws `APIError`, and data that is not JSON throws
 * JSON's own error. It does not print unparsable data to the console, as the SDK does.
 */
export class LeanStream<Item> extends Stream<Item> {
  static override fromSSEResponse<Item>(
    response: Response,
    controller: AbortController,
    client?: OpenAI,
    synthesizeEventData?: boolean,
  ): Stream<Item> {
    let consumed = false;
    async function* iterator(): AsyncGenerator<Item> {
      if (consumed) {
        throw new OpenAIError('Cannot iterate over a consumed stream, use `.tee()` to split the stream.');
      }
      consumed = true;
      let done = false;
      try {
        for await (const sse of serverSentEvents(response, controller)) {
          if (done) continue;
          if (sse.data.startsWith('[DONE]')) {
            done = true;
            continue;
          }
          const data = JSON.parse(sse.data) as { error?: unknown; message?: unknown } | null;
          if (sse.event === null || !sse.event.startsWith('thread.')) {
            if (data?.error) throw new APIError(undefined, data.error as object, undefined, response.headers);
            yield (synthesizeEventData ? { event: sse.event, data } : data) as Item;
          } else {
            yield { event: sse.event, data } as Item;
          }
        }
        done = true;
      } catch (error) {
        if (isAbortError(error)) return;
        throw error;
      } finally {
        if (!done) controller.abort();
      }
    }
    return new LeanStream<Item>(iterator, controller, client);
  }
}

/** A streamed call's options: its answer read by `LeanStream`. */
export function leanStreaming<Options extends object>(options: Options): Options & { __streamClass: typeof Stream } {
  return { ...options, __streamClass: LeanStream };
}
