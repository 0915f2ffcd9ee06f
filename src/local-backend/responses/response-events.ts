import { type AnswerStream, sseEvent } from '../http/answer.ts';
import type { ResponseOutputItem, StoredResponse } from '../store/response-store.ts';
import { EventLog, type LogReader, type StreamLimits } from '../streams/event-log.ts';
import { wireResponse } from './wire-response.ts';

/**
 * What happens to a response, as the response driver tells it: the one seam between producing
 * responses and streaming them. Each fact becomes the API's stream events (`ResponseStreamEvent` in
 * OpenAI's OpenAPI description), numbered by `sequence_number` from 0, in one log per response. A
 * streamed create reads the log as it grows; a background response's log is kept (bounded) while
 * it runs and `retainMs` after it ends, so `GET /v1/responses/{id}?stream=true&starting_after=N`
 * replays the events after N and follows the rest.
 */
export type ResponseFact =
  /** The response after a status change, as a read would answer it then. */
  | { type: 'status'; response: StoredResponse }
  /** The model began its text: the message output item has this id. */
  | { type: 'message'; id: string }
  /** A piece of that item's text, as the model produced it. */
  | { type: 'text'; id: string; value: string }
  /** A whole function call (models hand them over complete): its output item. */
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string };

/** What the driver needs of the events. */
export interface ResponseFactSink {
  publish(responseId: string, fact: ResponseFact): void;
}

/** One rendered event, ready for the wire. */
type Rendered = string;

/** The items of one response's stream: where each sits in `output`, and whether it is done. */
interface StreamItem {
  index: number;
  done: boolean;
}

const FINAL_EVENTS: Partial<Record<StoredResponse['status'], string>> = {
  completed: 'response.completed',
  incomplete: 'response.incomplete',
  failed: 'response.failed',
};

/** One response's stream: its log and what rendering needs to remember. */
class ResponseStreamLog {
  readonly log: EventLog<Rendered>;
  /** Its events are kept for replay (a background response's). */
  readonly keeps: boolean;
  readonly #items = new Map<string, StreamItem>();
  #retention: NodeJS.Timeout | undefined;

  constructor(limits: StreamLimits, keep: boolean) {
    this.log = new EventLog<Rendered>(limits, { keep });
    this.keeps = keep;
  }

  /** Appends one event, numbered as the log numbers it. */
  emit(type: string, fields: Record<string, unknown>): void {
    const text = sseEvent(type, JSON.stringify({ type, ...fields, sequence_number: this.log.length }));
    this.log.append(text, Buffer.byteLength(text));
  }

  /** Renders a fact; true once the response is final (the log has ended). */
  render(fact: ResponseFact): boolean {
    if (fact.type === 'message') {
      const output_index = this.#add(fact.id);
      this.emit('response.output_item.added', {
        output_index,
        item: { id: fact.id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      this.emit('response.content_part.added', {
        item_id: fact.id,
        output_index,
        content_index: 0,
        part: textPart(''),
      });
    } else if (fact.type === 'text') {
      const item = this.#items.get(fact.id);
      if (item) {
        const at = { item_id: fact.id, output_index: item.index, content_index: 0 };
        this.emit('response.output_text.delta', { ...at, delta: fact.value, logprobs: [] });
      }
    } else if (fact.type === 'function_call') {
      const { id, call_id, name } = fact;
      const item = {
        id,
        type: 'function_call',
        status: 'completed',
        call_id,
        name,
        arguments: fact.arguments,
      } as const;
      this.#functionCall(item, this.#add(id));
    } else {
      return this.#status(fact.response);
    }
    return false;
  }

  /** Ends the log with an `error` event (shutdown); a log that ended already is left as it is. */
  fail(code: string, message: string): void {
    if (this.log.ended) return;
    this.emit('error', { code, message, param: null });
    this.log.end();
  }

  retainFor(ms: number, drop: () => void): void {
    this.#retention = setTimeout(drop, ms);
    this.#retention.unref();
  }

  dispose(): void {
    clearTimeout(this.#retention);
  }

  #add(id: string): number {
    const index = this.#items.size;
    this.#items.set(id, { index, done: false });
    return index;
  }

  #status(response: StoredResponse): boolean {
    const wire = wireResponse(response);
    if (response.status === 'queued') this.emit('response.queued', { response: wire });
    if (response.status === 'in_progress') this.emit('response.in_progress', { response: wire });
    if (response.status === 'queued' || response.status === 'in_progress') return false;
    if (response.status === 'completed' || response.status === 'incomplete') {
      for (const item of response.output) this.#finishItem(item);
    }
    const final = FINAL_EVENTS[response.status];
    if (final) this.emit(final, { response: wire });
    // The description has no event for a cancelled response: the stream says so with an `error`.
    else this.emit('error', { code: 'response_cancelled', message: 'The response was cancelled.', param: null });
    this.log.end();
    return true;
  }

  /** The closing events of an output item as the response holds it (an item never announced opens first). */
  #finishItem(item: ResponseOutputItem): void {
    const known = this.#items.get(item.id);
    if (known?.done) return;
    if (item.type === 'function_call') {
      this.#functionCall(item, known?.index ?? this.#add(item.id));
      return;
    }
    const output_index = known?.index ?? this.#add(item.id);
    const opening = { ...item, status: 'in_progress', content: [] };
    if (!known) {
      this.emit('response.output_item.added', { output_index, item: opening });
      this.emit('response.content_part.added', {
        item_id: item.id,
        output_index,
        content_index: 0,
        part: textPart(''),
      });
    }
    const at = { item_id: item.id, output_index, content_index: 0 };
    item.content.forEach((part, content_index) => {
      this.emit('response.output_text.done', { ...at, content_index, text: part.text, logprobs: [] });
      this.emit('response.content_part.done', { ...at, content_index, part });
    });
    this.emit('response.output_item.done', { output_index, item });
    this.#items.set(item.id, { index: output_index, done: true });
  }

  #functionCall(item: Extract<ResponseOutputItem, { type: 'function_call' }>, output_index: number): void {
    const at = { item_id: item.id, output_index };
    this.emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
    this.emit('response.function_call_arguments.delta', { ...at, delta: item.arguments });
    this.emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
    this.emit('response.output_item.done', { output_index, item });
    this.#items.set(item.id, { index: output_index, done: true });
  }
}

function textPart(text: string) {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** The backend's response streams, by response id. */
export class ResponseEvents implements ResponseFactSink {
  readonly #limits: StreamLimits;
  readonly #streams = new Map<string, ResponseStreamLog>();
  /** Ended responses' logs kept for replay, oldest first, and their bytes together. */
  readonly #retained = new Map<string, ResponseStreamLog>();
  #retainedBytes = 0;
  #stopped = false;

  constructor(limits: StreamLimits) {
    this.#limits = limits;
  }

  /**
   * Opens the stream of a response just created (`queued`): `response.created`, and for a
   * background response `response.queued`. A background response's events are kept for replay;
   * `follow` answers a reader of all of them (a streamed create), attached before the first.
   */
  open(response: StoredResponse, follow: boolean): LogReader<Rendered> | undefined {
    if (this.#stopped) return undefined;
    const stream = new ResponseStreamLog(this.#limits, response.background);
    this.#streams.set(response.id, stream);
    const reader = follow ? stream.log.reader(-1) : undefined;
    stream.emit('response.created', { response: wireResponse(response) });
    if (response.background) stream.render({ type: 'status', response });
    return reader;
  }

  publish(responseId: string, fact: ResponseFact): void {
    const stream = this.#streams.get(responseId);
    if (!stream?.render(fact)) return;
    // Final: a kept log stays `retainMs` for replays (within the bytes all kept logs may hold);
    // any other is left to the readers it has.
    if (stream.keeps) this.#retain(responseId, stream);
    else this.#drop(responseId, stream);
  }

  #retain(responseId: string, stream: ResponseStreamLog): void {
    stream.retainFor(this.#limits.retainMs, () => this.#drop(responseId, stream));
    this.#retained.set(responseId, stream);
    this.#retainedBytes += stream.log.bytes;
    for (const [id, oldest] of this.#retained) {
      if (this.#retainedBytes <= this.#limits.retainedMaxBytes) break;
      this.#drop(id, oldest);
    }
  }

  /** The events after `after` (-1: all), live until the response ends; undefined when none are kept. */
  follow(responseId: string, after: number): LogReader<Rendered> | undefined {
    return this.#streams.get(responseId)?.log.reader(after);
  }

  /** Shutdown: each open stream ends with an `error` event, and nothing more is kept. */
  endAll(): void {
    this.#stopped = true;
    for (const [id, stream] of this.#streams) {
      stream.fail('server_shutdown', 'The local backend is shutting down.');
      this.#drop(id, stream);
    }
  }

  #drop(id: string, stream: ResponseStreamLog): void {
    stream.dispose();
    if (this.#streams.get(id) === stream) this.#streams.delete(id);
    if (this.#retained.get(id) === stream) {
      this.#retained.delete(id);
      this.#retainedBytes -= stream.log.bytes;
    }
  }
}

/** A reader of a response's log as the body of a streamed answer. */
export function responseStream(reader: LogReader<Rendered>): AnswerStream {
  let closed = false;
  const close = () => {
    closed = true;
    reader.close();
  };
  return {
    async next() {
      if (closed) return undefined;
      const read = await reader.next();
      if (read.kind === 'event') return read.event;
      close();
      if (read.kind === 'end') return undefined;
      // The events from `read.seq` on are gone from the bounded log: say so rather than skip them.
      const error = {
        type: 'error',
        code: 'stream_overrun',
        message: `The client read the stream too slowly; events from ${read.seq} on are no longer kept.`,
        param: null,
        sequence_number: read.seq,
      };
      return sseEvent('error', JSON.stringify(error));
    },
    close,
  };
}
