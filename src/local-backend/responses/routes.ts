import { THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import { type BackendAnswer, type ErrorFields, eventStream, fail, json } from '../http/answer.ts';
import { readObject } from '../http/body.ts';
import { idempotentByPath, type RememberedCreate } from '../http/idempotency.ts';
import { rawShownId } from '../http/ids.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import { modelResolver } from '../model/model-for-run.ts';
import { DEFAULT_RUN_TIMEOUT_MS, type RunOptions, type RunRouteDeps } from '../runs/routes.ts';
import { ACTIVE_RESPONSE_STATUSES, type ResponseRecord } from '../store/response-store.ts';
import type { Store } from '../store/store.ts';
import { ResponseDriver } from './response-driver.ts';
import { ResponseEvents, responseStream } from './response-events.ts';
import { conversationMessages } from './response-prompt.ts';
import { type CreateProblem, parseResponseCreate, unansweredOutput } from './response-rules.ts';
import { wireResponse } from './wire-response.ts';

/**
 * The Responses API on the local backend:
 *
 * - `POST /v1/responses`: creates a response; with `background: true` it answers at once
 *   (`queued`), else when the response is final; with `stream: true`, its stream events.
 * - `GET /v1/responses/{id}`: the response; with `stream=true` (a background response), its
 *   stream events after `starting_after`, then live until it ends.
 * - `POST /v1/responses/{id}/cancel`: cancels a background response that is not final yet.
 *
 * They share the backend's auth (a key, no beta header) and `Idempotency-Key` handling, and the
 * runs' model settings and timeout.
 */
export interface ResponseRoutes {
  /** Stops the model calls in flight without writing (shutdown; the next start recovers them). */
  stop(): Promise<void>;
}

/** What the Responses handlers share: the store, the response driver, the Idempotency-Key mechanism. */
interface ResponseRouteContext {
  store: Store;
  driver: ResponseDriver;
  /** The responses' stream events (the driver publishes to it). */
  events: ResponseEvents;
  remembered: RememberedCreate;
  /** LOCAL_BACKEND_RUN_TIMEOUT_S, in milliseconds: a response's too. */
  timeoutMs: number;
  beforeMessageCreate?: RunRouteDeps['beforeMessageCreate'];
}

function responseNotFound(id: string): BackendAnswer {
  return fail(404, { message: `Response with id '${id}' not found.`, param: 'response_id', code: null });
}

function conversationNotFound(id: string): BackendAnswer {
  return fail(404, { message: `Conversation with id '${id}' not found.`, param: 'conversation', code: null });
}

function invalid(found: CreateProblem): BackendAnswer {
  return fail(400, { message: found.message, param: found.param, code: found.code ?? null });
}

/**
 * The Responses routes, registered into the backend's table, and the response driver behind them.
 * Creating them starts the restart recovery (see ResponseDriver.ready); every request of theirs
 * waits for it after its key is checked.
 */
export function registerResponseRoutes(
  table: RouteTable,
  deps: RunRouteDeps,
  options: RunOptions = {},
): ResponseRoutes {
  const events = new ResponseEvents(deps.streams);
  const driver = new ResponseDriver({ store: deps.store, model: modelResolver(options.model ?? {}), events });
  driver.ready().catch(() => undefined); // retried by the first request when the store is not open yet
  const ctx: ResponseRouteContext = {
    store: deps.store,
    driver,
    events,
    remembered: deps.remembered,
    timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    ...(deps.beforeMessageCreate ? { beforeMessageCreate: deps.beforeMessageCreate } : {}),
  };
  const section: RouteSection = {
    guard: async (request) => {
      const caller = deps.authenticate(request);
      if (!('error' in caller)) await driver.ready();
      return caller;
    },
    ids: [rawShownId(responseNotFound)],
  };
  table.add(section, 'POST', '/v1/responses', (call) => createResponse(ctx, call));
  table.add(section, 'GET', '/v1/responses/{id}', (call) => retrieveResponse(ctx, call));
  table.add(section, 'POST', '/v1/responses/{id}/cancel', (call) => cancelResponse(ctx, call));
  // Operations of the API not served here: 404, never read as a response's id.
  table.reserve(section, '/v1/responses/input_tokens');
  table.reserve(section, '/v1/responses/compact');
  async function stop(): Promise<void> {
    await driver.stop();
    events.endAll();
  }

  return { stop };
}

async function createResponse(ctx: ResponseRouteContext, call: RouteCall<[]>): Promise<BackendAnswer> {
  const read = await readObject(call.request);
  if ('error' in read) return read.error;
  const parsed = parseResponseCreate(read.body);
  if ('message' in parsed) return invalid(parsed);
  const { conversationId, input, background, stream, options, ...settings } = parsed;
  if (conversationId !== null && !THREAD_ID_PATTERN.test(conversationId)) return conversationNotFound(conversationId);
  const busy = conversationId === null ? undefined : await ctx.beforeMessageCreate?.(conversationId);
  if (busy) return busy;
  const context = conversationId === null ? [] : await conversationMessages(ctx.store, conversationId);
  const unanswered = unansweredOutput(input, context);
  if (unanswered) return invalid(unanswered);
  return idempotentByPath(ctx.remembered, call, read.text, async () => {
    const created = await ctx.store.responses.createResponse({
      ...settings,
      input,
      background,
      conversation: conversationId === null ? null : { id: conversationId },
      ...options,
      previous_response_id: null,
      service_tier: 'default',
      store: true,
      timeoutMs: ctx.timeoutMs,
    });
    if (created.kind === 'no-conversation') return conversationNotFound(conversationId ?? '');
    const { response } = created.record;
    // Opened before the driver starts, so the stream misses nothing.
    const reader = stream || background ? ctx.events.open(response, stream) : undefined;
    const done = ctx.driver.start(created.record);
    if (stream) return reader ? eventStream(responseStream(reader)) : shuttingDown();
    if (background) return json(200, wireResponse(response));
    await done;
    const record = await ctx.store.responses.getResponse(created.record.response.id);
    return json(200, wireResponse((record ?? created.record).response));
  });
}

/** The stored response, brought up to date (a response past its expiry is expired now). */
async function current(ctx: ResponseRouteContext, id: string): Promise<ResponseRecord | undefined> {
  const record = await ctx.store.responses.getResponse(id);
  return record && ctx.driver.current(record);
}

function shuttingDown(): BackendAnswer {
  return fail(503, { message: 'The local backend is shutting down.', code: 'server_shutdown' });
}

interface RetrieveQuery {
  stream: boolean;
  /** `starting_after`: the events after this sequence number (-1: all). */
  after: number;
}

/**
 * A retrieve's query, or the 400 for a parameter it does not take. `include` is accepted (the
 * backend has nothing to include), and `include_obfuscation` (its streams carry no obfuscation).
 */
function retrieveQuery(search: string): RetrieveQuery | ErrorFields {
  const query: RetrieveQuery = { stream: false, after: -1 };
  for (const [name, value] of new URLSearchParams(search)) {
    if (name === 'stream' || name === 'include_obfuscation') {
      if (value !== 'true' && value !== 'false') return { message: `${name}: must be a boolean.`, param: name };
      if (name === 'stream') query.stream = value === 'true';
    } else if (name === 'starting_after') {
      if (!/^-?\d{1,15}$/.test(value)) return { message: 'starting_after: must be an integer.', param: name };
      query.after = Math.max(-1, Number(value));
    } else if (name !== 'include' && name !== 'include[]') {
      return { message: `Unknown parameter: '${name}'.`, param: name, code: 'unknown_parameter' };
    }
  }
  return query;
}

async function retrieveResponse(ctx: ResponseRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const query = retrieveQuery(call.request.search ?? '');
  if ('message' in query) return fail(400, query);
  const record = await current(ctx, id);
  if (!record) return responseNotFound(id);
  if (!query.stream) return json(200, wireResponse(record.response));
  if (!record.response.background) {
    return fail(400, { message: 'Only responses created with background=true can be streamed.', param: 'stream' });
  }
  const reader = ctx.events.follow(id, query.after);
  if (reader) return eventStream(responseStream(reader));
  return fail(400, {
    message: `The stream events of response '${id}' are not kept here any longer; retrieve it without stream.`,
    param: 'stream',
  });
}

async function cancelResponse(ctx: ResponseRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const record = await current(ctx, id);
  if (!record) return responseNotFound(id);
  const { response } = record;
  if (!response.background) {
    return fail(400, { message: 'Only responses created with background=true can be cancelled.', param: null });
  }
  if (response.status === 'cancelled') return json(200, wireResponse(response));
  if (!ACTIVE_RESPONSE_STATUSES.includes(response.status)) {
    return fail(400, { message: `Cannot cancel a response with status '${response.status}'.` });
  }
  const cancelled = await ctx.driver.cancel(id);
  if (cancelled) return json(200, wireResponse(cancelled.response));
  // It became final meanwhile: answer what it is now.
  const now = await ctx.store.responses.getResponse(id);
  return now ? json(200, wireResponse(now.response)) : responseNotFound(id);
}
