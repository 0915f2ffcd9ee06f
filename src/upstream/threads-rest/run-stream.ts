import type OpenAI from 'openai';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import type { Stream } from 'openai/streaming';
import { type RunStatus, TERMINAL_RUN_STATUSES, type ToolOutput } from '../../domain/run.ts';
import { normaliseMessage, normaliseRun } from '../answer-checks.ts';
import { type UpstreamCalls, type UpstreamSession, withIdempotencyKey } from '../calls/call-session.ts';
import { classifyFault, sdk, UpstreamShapeError } from '../calls/faults.ts';
import { leanStreaming } from '../sdk/lean-stream.ts';
import type { NewRun, StreamedRun, UpstreamRunEvent } from '../upstream-api.ts';
import { toRunCreate, toToolOutputs } from './run-wire.ts';

/**
 * Runs created and answered with `stream: true` on a Threads server (docs/live.md). A server that
 * refuses `stream` (400 naming `param: "stream"`: nothing created) or answers plainly is one that
 * does not stream: its runs are created plainly from then on. Any other 400 is the caller's.
 */
export class ThreadsRestRunStreams {
  readonly #client: OpenAI;
  readonly #calls: UpstreamCalls;
  /** true once a run streamed; false once the server refused `stream` or ignored it. */
  #streams: boolean | undefined;

  constructor(client: OpenAI, calls: UpstreamCalls) {
    this.#client = client;
    this.#calls = calls;
  }

  async createRun(session: UpstreamSession, threadId: string, body: NewRun, key?: string) {
    if (this.#streams === false) return null;
    const wire = { ...toRunCreate(body), stream: true as const };
    // A run writes messages and changes the thread's runs: no later read may join an older one.
    this.#calls.forget(session, `threads/${threadId}/runs`, { under: true });
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
    const streamed = await this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}/runs',
      // A 404 on a create names what the run needed: its thread, or the assistant it asked for.
      resource: 'thread or assistant',
      safety: 'create',
      send: async (options) => {
        const answer = await this.#orRefused(() =>
          this.#client.beta.threads.runs
            .create(threadId, wire, leanStreaming(withIdempotencyKey(options, key)))
            .withResponse(),
        );
        return answer && this.#started(answer, threadId);
      },
    });
    return streamed;
  }

  /** The stream's first run, or the run a server that ignores `stream` answered plainly (it then never streams here). */
  async #started(
    answer: { data: Stream<AssistantStreamEvent>; response: Response },
    threadId: string,
    runId?: string,
  ): Promise<StreamedRun> {
    if ((answer.response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      this.#streams = true;
      return startedRun(answer.data, threadId, runId);
    }
    this.#streams = false;
    const run = normaliseRun(await answer.response.json(), threadId, runId);
    return { run, close: () => undefined };
  }

  /**
   * Streamed unless the server is known not to stream runs (null: nothing sent). Also when this
   * instance has not created a run yet (it started after the run did): a server that refuses
   * `stream` refused the whole request, so the outputs are then sent plainly.
   */
  async submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    if (this.#streams === false) return null;
    const toolOutputs = toToolOutputs(outputs);
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}/runs/{id}/submit_tool_outputs',
      resource: 'run',
      safety: 'create',
      send: async (options) => {
        const answer = await this.#orRefused(() =>
          this.#client.beta.threads.runs
            .submitToolOutputs(
              runId,
              { thread_id: threadId, tool_outputs: toolOutputs, stream: true },
              leanStreaming(options),
            )
            .withResponse(),
        );
        return answer && this.#started(answer, threadId, runId);
      },
    });
  }

  /** The answer, or null when the server refused `stream` itself (it then never streams here). */
  async #orRefused<T>(start: () => Promise<T>): Promise<T | null> {
    try {
      return await sdk(start());
    } catch (error) {
      const fault = classifyFault(error);
      if (fault?.kind !== 'status' || fault.status !== 400 || fault.param !== 'stream') throw error;
      this.#streams = false;
      return null;
    }
  }
}

/** How much of a stream's end is read after its run stopped streaming, before the connection is cut. */
const STREAM_END_EVENTS = 4;
const STREAM_END_WAIT_MS = 1000;

/** Statuses after which a run's stream has nothing more to say. */
function stopsStreaming(status: RunStatus): boolean {
  return status === 'requires_action' || TERMINAL_RUN_STATUSES.has(status);
}

/**
 * A message the run wrote although it ended incomplete: cut at the token limit or by the content
 * filter, it is in the thread as it stands. (One ended by the run's cancel, failure or expiry, or
 * text before tool calls, is not written: its reason is the run's, or none.)
 */
function writtenIncomplete(
  event: AssistantStreamEvent,
): event is Extract<AssistantStreamEvent, { event: 'thread.message.incomplete' }> {
  if (event.event !== 'thread.message.incomplete') return false;
  const reason = event.data.incomplete_details?.reason;
  return reason === 'max_tokens' || reason === 'content_filter';
}

/** A run status event (`thread.run.*`), not one of its steps. */
function isRunEvent(name: string): boolean {
  return name.startsWith('thread.run.') && !name.startsWith('thread.run.step.');
}

/**
 * Reads a Threads server's run stream (`stream: true`) until its first run event, the run as the
 * server first reports it; the rest is read by whoever follows the run. Every object is checked as
 * a plain answer would be.
 */
export async function startedRun(
  stream: Stream<AssistantStreamEvent>,
  threadId: string,
  runId?: string,
): Promise<StreamedRun> {
  const source = stream[Symbol.asyncIterator]();
  // A stream read to its end has nothing to abort (an abort builds a DOMException, stack and all).
  let ended = false;
  const iterator: AsyncIterator<AssistantStreamEvent> = {
    next: async () => {
      const item = await source.next();
      if (item.done) ended = true;
      return item;
    },
  };
  const cut = () => {
    if (ended || stream.controller.signal.aborted) return;
    ended = true;
    stream.controller.abort();
  };
  // The run stopped streaming (it ended, or waits on tool outputs): what remains is the stream's
  // end. It is read rather than cut, which would cost an exception and the socket, and cut if it
  // does not come within a few events or a second; a close meanwhile leaves that to the reading.
  let finishing = false;
  const close = () => {
    if (!finishing) cut();
  };
  const finish = () => {
    if (ended || finishing) return;
    finishing = true;
    const timer = setTimeout(cut, STREAM_END_WAIT_MS).unref();
    void (async () => {
      for (let read = 0; read < STREAM_END_EVENTS && !ended; read++) if ((await iterator.next()).done) return;
    })()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        cut();
      });
  };
  try {
    for (;;) {
      const { done, value } = await iterator.next();
      if (done) throw new UpstreamShapeError('the run’s stream ended before it named the run');
      if (value.event === 'error') throw new UpstreamShapeError('the run’s stream began with an error event');
      if (!isRunEvent(value.event)) continue;
      const run = normaliseRun(value.data, threadId, runId);
      return { run, events: follow(iterator, threadId, run.id, close, finish), close };
    }
  } catch (error) {
    close();
    // The stream broke or said nonsense before naming the run: a malformed answer, never a raw error.
    if (classifyFault(error)) throw error;
    throw new UpstreamShapeError('the run’s stream could not be read', { cause: error });
  }
}

async function* follow(
  iterator: AsyncIterator<AssistantStreamEvent>,
  threadId: string,
  runId: string,
  close: () => void,
  finish: () => void,
): AsyncGenerator<UpstreamRunEvent> {
  const started = new Set<string>();
  let stopped = false;
  try {
    for (;;) {
      const { done, value } = await iterator.next();
      if (done) return;
      const event = value;
      if (event.event === 'thread.message.created') {
        started.add(event.data.id);
      } else if (event.event === 'thread.message.delta') {
        if (!started.has(event.data.id)) throw new UpstreamShapeError('a delta of a message the run never started');
        for (const part of event.data.delta.content ?? []) {
          if (part.type === 'text' && part.text?.value) {
            yield { type: 'MessageTextDelta', messageId: event.data.id, index: part.index, text: part.text.value };
          }
        }
      } else if (event.event === 'thread.message.completed' || writtenIncomplete(event)) {
        yield { type: 'MessageCompleted', message: normaliseMessage(event.data, threadId, event.data.id) };
      } else if (event.event === 'error') {
        throw new UpstreamShapeError('the run’s stream reported an error');
      } else if (isRunEvent(event.event)) {
        const run = normaliseRun(event.data, threadId, runId);
        stopped = stopsStreaming(run.status);
        yield { type: 'RunStatusChanged', run };
      }
    }
  } finally {
    if (stopped) finish();
    else close();
  }
}
