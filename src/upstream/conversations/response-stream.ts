import type OpenAI from 'openai';
import type { ResponseCreateParamsStreaming, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { Stream } from 'openai/streaming';
import { isPlainObject } from '../../domain/thread-rules.ts';
import type { ResponseFold, RunRecord } from '../../features/runs/run-records.ts';
import { classifyFault, UpstreamShapeError } from '../calls/faults.ts';
import { leanStreaming } from '../sdk/lean-stream.ts';
import type { UpstreamRunEvent } from '../upstream-api.ts';
import { toMessage } from './mapping.ts';
import { foldResponse, toRun } from './run-mapping.ts';

/** A response's stream as the SDK hands it, with the raw answer (to tell a plain JSON answer apart). */
export interface StreamAnswer {
  data: Stream<ResponseStreamEvent>;
  response: Response;
}

/** Where a streamed response is: its id and the last `sequence_number` read (resume after it). */
export function positionOf(responseId: string, seq: number): string {
  return `${responseId}:${seq}`;
}

export function parsePosition(position: string): { responseId: string; seq: number } | null {
  const match = /^([A-Za-z0-9_-]{1,128}):(\d{1,12})$/.exec(position);
  return match ? { responseId: match[1] as string, seq: Number(match[2]) } : null;
}

/** What following a response needs: its record's current state, a way to save it, and resuming. */
export interface ResponseFollower {
  threadId: string;
  /** The run's record now (another instance may have moved it on). */
  record(): Promise<RunRecord | null>;
  /** Saves the record with `fold` as its current response; answers the record as saved. */
  save(fold: ResponseFold): Promise<RunRecord>;
  /** The response's stream again, after `seq` (a background response resumes as OpenAI's does). */
  resume(responseId: string, seq: number): Promise<Stream<ResponseStreamEvent>>;
}

const RESPONSE_STATUS_EVENTS = new Set([
  'response.queued',
  'response.in_progress',
  'response.completed',
  'response.failed',
  'response.incomplete',
  'response.cancelled',
]);
/** Resumes of one response's stream when it breaks, before the run is read instead. */
const RESUMES = 2;

/** Reads the stream up to `response.created`: the response as first reported, and the rest. */
export async function firstResponse(
  answer: StreamAnswer,
  threadId: string,
): Promise<{ fold: ResponseFold; rest: AsyncIterator<ResponseStreamEvent> | null; close(): void }> {
  const close = () => answer.data.controller.abort();
  if (!(answer.response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    // The server answered plainly: it does not stream.
    return { fold: foldResponse(await answer.response.json(), threadId), rest: null, close: () => undefined };
  }
  const iterator = answer.data[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { done, value } = await iterator.next();
      if (done) throw new UpstreamShapeError('the response’s stream ended before it named the response');
      if (value.type === 'error') throw new UpstreamShapeError('the response’s stream began with an error event');
      if (value.type === 'response.created' || RESPONSE_STATUS_EVENTS.has(value.type)) {
        return { fold: foldResponse((value as { response: unknown }).response, threadId), rest: iterator, close };
      }
    }
  } catch (error) {
    close();
    if (classifyFault(error)) throw error;
    throw new UpstreamShapeError('the response’s stream could not be read', { cause: error });
  }
}

/**
 * The run's events from its current response's stream, each with its position: text deltas of
 * message items, whole messages when an item is done, and the run's status (its record saved)
 * at each status event. A stream that breaks is resumed after the last event read; one that says
 * what cannot be (a delta of an item it never announced, an `error` event) throws.
 */
export async function* followResponse(
  follower: ResponseFollower,
  responseId: string,
  first: { iterator: AsyncIterator<ResponseStreamEvent>; close(): void },
  afterSeq = -1,
): AsyncGenerator<UpstreamRunEvent & { position: string }> {
  let { iterator, close } = first;
  let seq = afterSeq;
  const started = new Set<string>();
  // A stream taken up after `afterSeq` began its items before it: only a whole stream is checked so.
  const resumed = afterSeq >= 0;
  let resumes = 0;
  try {
    for (;;) {
      let next: IteratorResult<ResponseStreamEvent>;
      try {
        next = await iterator.next();
      } catch (error) {
        if (!classifyFault(error) || resumes >= RESUMES) throw error;
        resumes++;
        close();
        const stream = await follower.resume(responseId, seq);
        iterator = stream[Symbol.asyncIterator]();
        close = () => stream.controller.abort();
        continue;
      }
      if (next.done) return;
      const event = next.value;
      if (typeof event.sequence_number === 'number') {
        if (event.sequence_number <= seq) continue;
        seq = event.sequence_number;
      }
      const position = positionOf(responseId, seq);
      if (event.type === 'error') throw new UpstreamShapeError('the response’s stream reported an error');
      if (event.type === 'response.output_item.added' && event.item.type === 'message') {
        started.add(event.item.id ?? '');
      } else if (event.type === 'response.output_text.delta') {
        if (!resumed && !started.has(event.item_id)) {
          throw new UpstreamShapeError('a delta of an item the response never started');
        }
        yield {
          type: 'MessageTextDelta',
          messageId: event.item_id,
          index: event.content_index,
          text: event.delta,
          position,
        };
      } else if (event.type === 'response.output_item.done' && event.item.type === 'message') {
        const record = await follower.record();
        const message = toMessage(event.item, follower.threadId);
        if (message && record) {
          yield {
            type: 'MessageCompleted',
            message: { ...message, run_id: record.id, assistant_id: record.assistantId },
            position,
          };
        }
      } else if (RESPONSE_STATUS_EVENTS.has(event.type) && isPlainObject((event as { response?: unknown }).response)) {
        const fold = foldResponse((event as { response: unknown }).response, follower.threadId, responseId);
        yield { type: 'RunStatusChanged', run: toRun(await follower.save(fold)), position };
      }
    }
  } finally {
    close();
  }
}

/** The SDK call that creates a response streamed (its answer read by LeanStream). */
export function createStream(client: OpenAI, body: ResponseCreateParamsStreaming, options: object) {
  return client.responses.create(body, leanStreaming(options)).withResponse();
}

/** The SDK call that resumes a background response's stream after `seq`. */
export function resumeStream(client: OpenAI, responseId: string, seq: number, options: object) {
  return client.responses.retrieve(responseId, { stream: true, starting_after: seq }, leanStreaming(options));
}
