import { THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import { type BackendAnswer, type ErrorFields, fail, json } from '../http/answer.ts';
import { readObject } from '../http/body.ts';
import { idempotentByPath, type RememberedCreate } from '../http/idempotency.ts';
import { rawShownId } from '../http/ids.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import { modelResolver } from '../model/model-for-run.ts';
import { DEFAULT_RUN_TIMEOUT_MS, type RunOptions, type RunRouteDeps } from '../runs/routes.ts';
import { ACTIVE_RESPONSE_STATUSES, type ResponseRecord, type StoredResponse } from '../store/response-store.ts';
import type { Store } from '../store/store.ts';
import { ResponseDriver } from './response-driver.ts';
import { conversationMessages } from './response-prompt.ts';
import { type CreateProblem, parseResponseCreate, unansweredOutput } from './response-rules.ts';

/**
 * The Responses API on the local backend:
 *
 * - `POST /v1/responses`: creates a response; with `background: true` it answers at once
 *   (`queued`), else when the response is final.
 * - `GET /v1/responses/{id}`: the response.
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
  remembered: RememberedCreate;
  /** LOCAL_BACKEND_RUN_TIMEOUT_S, in milliseconds: a response's too. */
  timeoutMs: number;
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
  const driver = new ResponseDriver({ store: deps.store, model: modelResolver(options.model ?? {}) });
  driver.ready().catch(() => undefined); // retried by the first request when the store is not open yet
  const ctx: ResponseRouteContext = {
    store: deps.store,
    driver,
    remembered: deps.remembered,
    timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
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
  return { stop: () => driver.stop() };
}

async function createResponse(ctx: ResponseRouteContext, call: RouteCall<[]>): Promise<BackendAnswer> {
  const read = await readObject(call.request);
  if ('error' in read) return read.error;
  const parsed = parseResponseCreate(read.body);
  if ('message' in parsed) return invalid(parsed);
  const { conversationId, input, background, ...settings } = parsed;
  if (conversationId !== null && !THREAD_ID_PATTERN.test(conversationId)) return conversationNotFound(conversationId);
  const context = conversationId === null ? [] : await conversationMessages(ctx.store, conversationId);
  const unanswered = unansweredOutput(input, context);
  if (unanswered) return invalid(unanswered);
  return idempotentByPath(ctx.remembered, call, read.text, async () => {
    const created = await ctx.store.responses.createResponse({
      ...settings,
      input,
      background,
      conversation: conversationId === null ? null : { id: conversationId },
      max_tool_calls: null,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      service_tier: 'default',
      store: true,
      truncation: 'disabled',
      user: null,
      timeoutMs: ctx.timeoutMs,
    });
    if (created.kind === 'no-conversation') return conversationNotFound(conversationId ?? '');
    const done = ctx.driver.start(created.record);
    if (background) return json(200, wireResponse(created.record.response));
    await done;
    const record = await ctx.store.responses.getResponse(created.record.response.id);
    return json(200, wireResponse((record ?? created.record).response));
  });
}

/**
 * A stored response as the API answers it. `usage` is left out until there is one and the deprecated
 * `user` when none was given: the API's description types both as never null (and requires neither).
 * Usage counts no cache writes (`cache_write_tokens`, which responses stored before it lack).
 */
function wireResponse(response: StoredResponse) {
  const { usage, user, ...rest } = response;
  return {
    ...rest,
    ...(usage
      ? { usage: { ...usage, input_tokens_details: { cache_write_tokens: 0, ...usage.input_tokens_details } } }
      : {}),
    ...(user === null ? {} : { user }),
  };
}

/** The stored response, brought up to date (a response past its expiry is expired now). */
async function current(ctx: ResponseRouteContext, id: string): Promise<ResponseRecord | undefined> {
  const record = await ctx.store.responses.getResponse(id);
  return record && ctx.driver.current(record);
}

/** The 400 for a query parameter retrieve does not take (`stream` is known, but not streamed yet). */
function retrieveQueryProblem(search: string): ErrorFields | undefined {
  for (const [name, value] of new URLSearchParams(search)) {
    if (name === 'stream' && value !== 'false') {
      return {
        message: 'stream: the local backend does not stream responses yet; retrieve it without stream.',
        param: 'stream',
        code: 'unsupported_parameter',
      };
    }
    if (name !== 'stream' && name !== 'include' && name !== 'include[]') {
      return { message: `Unknown parameter: '${name}'.`, param: name, code: 'unknown_parameter' };
    }
  }
  return undefined;
}

async function retrieveResponse(ctx: ResponseRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const problem = retrieveQueryProblem(call.request.search ?? '');
  if (problem) return fail(400, problem);
  const record = await current(ctx, id);
  return record ? json(200, wireResponse(record.response)) : responseNotFound(id);
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
