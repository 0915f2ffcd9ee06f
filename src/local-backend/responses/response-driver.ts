import { type Model, ModelError, type ModelEvent } from '../model/model.ts';
import { newObjectId } from '../store/object-id.ts';
import {
  ACTIVE_RESPONSE_STATUSES,
  type ResponseOutputItem,
  type ResponsePatch,
  type ResponseRecord,
  type ResponseStatus,
  type ResponseUsage,
} from '../store/response-store.ts';
import type { RunUsage } from '../store/run-store.ts';
import { type NewStoredMessage, StorageQuotaError, type Store } from '../store/store.ts';
import type { ResponseFactSink } from './response-events.ts';
import { buildResponseRequest } from './response-prompt.ts';
import { functionCallMessage } from './tool-call-items.ts';

/**
 * Responses are produced inside the backend process, as runs are (runs/run-driver.ts): the driver
 * takes a `queued` response to `in_progress`, asks the model once, and ends it `completed` (its
 * output written to the conversation in the same write), `incomplete` (cut at `max_output_tokens`)
 * or `failed`. Function calls end it `completed` too: the caller answers them with
 * `function_call_output` items in the next response. Every status change is a conditional write,
 * so a cancel or a timeout that lands first wins and the driver stops writing. Each status it
 * writes, and the output as the model produces it, are published to `events`
 * (responses/response-events.ts), which streams follow.
 */
export interface ResponseDriverOptions {
  store: Store;
  model(name: string): Model;
  events: ResponseFactSink;
}

type StopReason = 'cancel' | 'expire' | 'shutdown';

const seconds = () => Math.floor(Date.now() / 1000);

function isDue(record: ResponseRecord): boolean {
  return record.expiresAt !== null && Date.now() >= record.expiresAt;
}

interface Turn {
  /** The message output item's id, fixed at the first text (and published then). */
  messageId: string | undefined;
  text: string;
  /** `id`: the output item's, fixed (and published) when the call arrives. */
  calls: Array<{ id: string; call_id: string; name: string; arguments: string }>;
  usage: RunUsage | null;
  length: boolean;
}

/**
 * The model's events as one turn, each output published as it comes. Item ids are fixed here, so
 * the stored output (and the conversation's items) carry the ids the stream announced: a message
 * `msg_…`; a call `fc_…`, or in a conversation `msg_…`, since it is stored there as a message.
 */
async function consume(
  events: AsyncIterable<ModelEvent>,
  publish: ResponseFactSink['publish'],
  response: ResponseRecord['response'],
): Promise<Turn> {
  const turn: Turn = { messageId: undefined, text: '', calls: [], usage: null, length: false };
  for await (const event of events) {
    if (event.type === 'text') {
      if (turn.messageId === undefined) {
        turn.messageId = newObjectId('msg');
        publish(response.id, { type: 'message', id: turn.messageId });
      }
      turn.text += event.delta;
      publish(response.id, { type: 'text', id: turn.messageId, value: event.delta });
    } else if (event.type === 'tool_call') {
      const call = { id: newObjectId(response.conversation ? 'msg' : 'fc'), call_id: event.id, name: event.name };
      turn.calls.push({ ...call, arguments: event.arguments });
      publish(response.id, { type: 'function_call', ...call, arguments: event.arguments });
    } else if (event.type === 'usage') turn.usage = event.usage;
    else turn.length = true;
  }
  return turn;
}

function usageOf(usage: RunUsage | null): ResponseUsage {
  return {
    input_tokens: usage?.prompt_tokens ?? 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage?.completion_tokens ?? 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.total_tokens ?? 0,
  };
}

/** The turn's output items and, one for one, the conversation messages they become. */
function outputOf(turn: Turn): { output: ResponseOutputItem[]; items: NewStoredMessage[] } {
  const output: ResponseOutputItem[] = [];
  const items: NewStoredMessage[] = [];
  if (turn.text !== '' || turn.calls.length === 0) {
    const id = turn.messageId ?? newObjectId('msg');
    output.push({
      id,
      type: 'message',
      status: turn.length ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: turn.text, annotations: [], logprobs: [] }],
    });
    items.push({
      id,
      role: 'assistant',
      content: [{ type: 'text', text: { value: turn.text, annotations: [] } }],
      attachments: null,
      metadata: {},
    });
  }
  for (const { id, ...call } of turn.calls) {
    output.push({ id, type: 'function_call', status: 'completed', ...call });
    items.push({ ...functionCallMessage(call), id });
  }
  return { output, items };
}

export class ResponseDriver {
  readonly #store: Store;
  readonly #model: (name: string) => Model;
  readonly #events: ResponseFactSink;
  readonly #executing = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #recovered: Promise<void> | undefined;
  #stopped = false;

  constructor(options: ResponseDriverOptions) {
    this.#store = options.store;
    this.#model = options.model;
    this.#events = options.events;
  }

  /** Every status change the driver writes goes through here, and is published when it lands. */
  async #transition(
    id: string,
    from: readonly ResponseStatus[],
    patch: ResponsePatch,
    items?: NewStoredMessage[],
  ): Promise<ResponseRecord | undefined> {
    const written = await this.#store.responses.transitionResponse(id, from, patch, items);
    if (written && patch.status) this.#events.publish(id, { type: 'status', response: written.response });
    return written;
  }

  /**
   * Once per process, before any response is read or created: responses left `queued` or
   * `in_progress` by a previous process fail (`server_error`, the message saying it restarted). Retried on the next request
   * when the store cannot be read yet.
   */
  ready(): Promise<void> {
    this.#recovered ??= this.#recover().catch((error: unknown) => {
      this.#recovered = undefined;
      throw error;
    });
    return this.#recovered;
  }

  async #recover(): Promise<void> {
    for (const response of await this.#store.responses.responsesInStatus(ACTIVE_RESPONSE_STATUSES)) {
      await this.#transition(response.id, ACTIVE_RESPONSE_STATUSES, {
        status: 'failed',
        expiresAt: null,
        error: {
          code: 'server_error',
          message: 'The local backend restarted while this response was in progress.',
        },
      });
    }
  }

  /** Starts producing a `queued` response; the promise settles when it is final (or was stopped). */
  start(record: ResponseRecord): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const { id } = record.response;
    this.#arm(record);
    const controller = new AbortController();
    const done = this.#execute(id, controller.signal)
      .catch(() => undefined) // the store failed too: the response is left for the restart recovery
      .finally(() => this.#executing.delete(id));
    this.#executing.set(id, { controller, done });
    return done;
  }

  #arm(record: ResponseRecord): void {
    const { expiresAt } = record;
    const { id } = record.response;
    if (expiresAt === null || this.#timers.has(id) || this.#stopped) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(id);
        void this.#expire(id).catch(() => undefined);
      },
      Math.max(0, expiresAt - Date.now()),
    );
    timer.unref();
    this.#timers.set(id, timer);
  }

  #disarm(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  async #execute(id: string, signal: AbortSignal): Promise<void> {
    const started = await this.#transition(id, ['queued'], { status: 'in_progress' });
    if (!started) return;
    let turn: Turn;
    try {
      const request = await buildResponseRequest(this.#store, started, signal);
      const publish = this.#events.publish.bind(this.#events);
      turn = await consume(this.#model(started.response.model).stream(request), publish, started.response);
      signal.throwIfAborted();
    } catch (error) {
      // A cancel has written its status already; shutdown leaves it for the recovery. A timeout is
      // written here, so whoever waits for this response (a non-background create) reads it failed.
      if (signal.aborted) return signal.reason === 'expire' ? this.#markTimedOut(id) : undefined;
      return this.#fail(id, error);
    }
    const { output, items } = outputOf(turn);
    const patch: ResponsePatch = {
      output,
      usage: usageOf(turn.usage),
      expiresAt: null,
      ...(turn.length
        ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
        : { status: 'completed', completed_at: seconds() }),
    };
    this.#disarm(id);
    try {
      await this.#transition(id, ['in_progress'], patch, items);
    } catch (error) {
      // The output could not be stored (quota): the response fails rather than stay in progress.
      await this.#fail(id, error);
    }
  }

  async #fail(id: string, error: unknown): Promise<void> {
    this.#disarm(id);
    const code = error instanceof ModelError ? error.code : 'server_error';
    const message =
      error instanceof ModelError
        ? error.message
        : error instanceof StorageQuotaError
          ? "The response's output does not fit in the storage quota."
          : 'The local backend failed while running the model.';
    await this.#transition(id, ['in_progress'], {
      status: 'failed',
      expiresAt: null,
      error: { code, message },
    });
  }

  /** Fails a response past its time (`server_error`, the message naming LOCAL_BACKEND_RUN_TIMEOUT_S), stopping its model call first. */
  async #expire(id: string): Promise<ResponseRecord | undefined> {
    this.#disarm(id);
    const executing = this.#executing.get(id);
    if (executing) {
      executing.controller.abort('expire' satisfies StopReason);
      await executing.done;
    }
    await this.#markTimedOut(id);
    return this.#store.responses.getResponse(id);
  }

  async #markTimedOut(id: string): Promise<void> {
    await this.#transition(id, ACTIVE_RESPONSE_STATUSES, {
      status: 'failed',
      expiresAt: null,
      error: { code: 'server_error', message: 'The response did not finish within LOCAL_BACKEND_RUN_TIMEOUT_S.' },
    });
  }

  /** A read's view: one past its deadline has failed first (its timer may be in another process). */
  async current(record: ResponseRecord): Promise<ResponseRecord> {
    if (!ACTIVE_RESPONSE_STATUSES.includes(record.response.status) || !isDue(record)) return record;
    return (await this.#expire(record.response.id)) ?? record;
  }

  /** `cancelled` at once, its model call aborted; undefined when it was not queued or in progress. */
  async cancel(id: string): Promise<ResponseRecord | undefined> {
    const cancelled = await this.#transition(id, ACTIVE_RESPONSE_STATUSES, {
      status: 'cancelled',
      expiresAt: null,
    });
    if (!cancelled) return undefined;
    this.#disarm(id);
    this.#executing.get(id)?.controller.abort('cancel' satisfies StopReason);
    return cancelled;
  }

  /** Stops every model call without writing, as a crash would (the next start recovers them). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const running = [...this.#executing.values()];
    for (const { controller } of running) controller.abort('shutdown' satisfies StopReason);
    await Promise.all(running.map(({ done }) => done));
  }
}
