import { createHash } from 'node:crypto';
import { isPlainObject, THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import type { BackendAnswer, BackendRequest } from '../backend.ts';
import { modelResolver } from '../model/model-for-run.ts';
import { type RunRouteDeps, segmentId } from '../runs/route-kit.ts';
import { DEFAULT_RUN_TIMEOUT_MS, type RunOptions } from '../runs/routes.ts';
import { ACTIVE_RESPONSE_STATUSES, type ResponseRecord } from '../store/response-store.ts';
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
 * The backend's router asks these routes before its own; they share its auth, answers, request
 * counts and `Idempotency-Key` handling, and the runs' model settings and timeout.
 */
export interface ResponseRoutes {
  /** Answers `/v1/responses`, `/v1/responses/{id}` and `…/{id}/cancel`; undefined for any other path. */
  route(request: BackendRequest): Promise<BackendAnswer | undefined>;
  /** Stops the model calls in flight without writing (shutdown; the next start recovers them). */
  stop(): Promise<void>;
}

type ErrorFields = { message: string; param?: string | null; code?: string | null };

const SHAPES = ['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/cancel'];

/** `['', 'v1', 'responses', id?, 'cancel'?]` as a route shape, or undefined when the path is not ours. */
function match(segments: string[]): string | undefined {
  if (segments[1] !== 'v1' || segments[2] !== 'responses' || segments.length > 5) return undefined;
  if (segments.length === 5 && segments[4] !== 'cancel') return undefined;
  return SHAPES[segments.length - 3];
}

export function createResponseRoutes(deps: RunRouteDeps, options: RunOptions = {}): ResponseRoutes {
  const driver = new ResponseDriver({ store: deps.store, model: modelResolver(options.model ?? {}) });
  driver.ready().catch(() => undefined); // retried by the first request when the store is not open yet
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const { store } = deps;

  const fail = (status: number, error: ErrorFields): BackendAnswer =>
    deps.json(status, { error: { type: 'invalid_request_error', param: null, code: null, ...error } });
  const notFound = (id: string) =>
    fail(404, { message: `Response with id '${id}' not found.`, param: 'response_id', code: null });
  const notAllowed = (method: string) => fail(405, { message: `Method ${method} is not allowed on this route.` });
  const invalid = (found: CreateProblem) =>
    fail(400, { message: found.message, param: found.param, code: found.code ?? null });

  function readObject(text: string): { body: Record<string, unknown> } | { error: BackendAnswer } {
    if (text.trim() === '') return { body: {} };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        error: fail(400, { message: 'We could not parse the JSON body of your request.', code: 'invalid_json' }),
      };
    }
    return isPlainObject(body) ? { body } : { error: fail(400, { message: 'The body must be a JSON object.' }) };
  }

  /** A create under an `Idempotency-Key`, scoped to the caller's key and the route, as the others are. */
  function idempotent(
    request: BackendRequest,
    apiKey: string,
    text: string,
    create: () => Promise<BackendAnswer>,
  ): Promise<BackendAnswer> {
    const key = request.header('idempotency-key');
    if (!key) return create();
    const scoped = createHash('sha256').update(`${apiKey}\u0000${request.path}\u0000${key}`).digest('hex');
    const fingerprint = createHash('sha256').update(`${request.method} ${request.path}\u0000${text}`).digest('hex');
    return deps.rememberedCreate(scoped, fingerprint, create);
  }

  async function create(request: BackendRequest, apiKey: string): Promise<BackendAnswer> {
    const text = await request.text();
    const read = readObject(text);
    if ('error' in read) return read.error;
    const parsed = parseResponseCreate(read.body);
    if ('message' in parsed) return invalid(parsed);
    const { conversationId, input, background, ...settings } = parsed;
    const noConversation = (id: string) =>
      fail(404, { message: `Conversation with id '${id}' not found.`, param: 'conversation', code: null });
    if (conversationId !== null && !THREAD_ID_PATTERN.test(conversationId)) return noConversation(conversationId);
    const context = conversationId === null ? [] : await conversationMessages(store, conversationId);
    const unanswered = unansweredOutput(input, context);
    if (unanswered) return invalid(unanswered);
    return idempotent(request, apiKey, text, async () => {
      const created = await store.responses.createResponse({
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
        timeoutMs,
      });
      if (created.kind === 'no-conversation') return noConversation(conversationId ?? '');
      const done = driver.start(created.record);
      if (background) return deps.json(200, created.record.response);
      await done;
      const record = await store.responses.getResponse(created.record.response.id);
      return deps.json(200, (record ?? created.record).response);
    });
  }

  async function read(id: string): Promise<ResponseRecord | undefined> {
    const record = await store.responses.getResponse(id);
    return record && driver.current(record);
  }

  async function retrieve(request: BackendRequest, id: string): Promise<BackendAnswer> {
    for (const [name, value] of new URLSearchParams(request.search ?? '')) {
      if (name === 'stream' && value !== 'false') {
        return fail(400, {
          message: 'stream: the local backend does not stream responses yet; retrieve it without stream.',
          param: 'stream',
          code: 'unsupported_parameter',
        });
      }
      if (name !== 'stream' && name !== 'include' && name !== 'include[]') {
        return fail(400, { message: `Unknown parameter: '${name}'.`, param: name, code: 'unknown_parameter' });
      }
    }
    const record = await read(id);
    return record ? deps.json(200, record.response) : notFound(id);
  }

  async function cancel(id: string): Promise<BackendAnswer> {
    const record = await read(id);
    if (!record) return notFound(id);
    const { response } = record;
    if (!response.background) {
      return fail(400, { message: 'Only responses created with background=true can be cancelled.', param: null });
    }
    if (response.status === 'cancelled') return deps.json(200, response);
    if (!ACTIVE_RESPONSE_STATUSES.includes(response.status)) {
      return fail(400, { message: `Cannot cancel a response with status '${response.status}'.` });
    }
    const cancelled = await driver.cancel(id);
    if (cancelled) return deps.json(200, cancelled.response);
    // It became final meanwhile: answer what it is now.
    const now = await store.responses.getResponse(id);
    return now ? deps.json(200, now.response) : notFound(id);
  }

  async function route(request: BackendRequest): Promise<BackendAnswer | undefined> {
    const segments = request.path.split('/');
    const shape = match(segments);
    if (shape === undefined) return undefined;
    deps.count(request.method, shape);
    const auth = deps.authenticate(request);
    if ('error' in auth) return auth.error;
    await driver.ready();
    const [, , , rawId, action] = segments;
    if (rawId === undefined) return request.method === 'POST' ? create(request, auth.key) : notAllowed(request.method);
    const id = segmentId(rawId);
    if (id === undefined) return notFound(rawId);
    if (action === 'cancel') return request.method === 'POST' ? cancel(id) : notAllowed(request.method);
    return request.method === 'GET' ? retrieve(request, id) : notAllowed(request.method);
  }

  return { route, stop: () => driver.stop() };
}
