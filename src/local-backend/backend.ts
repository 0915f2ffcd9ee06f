import { createHash, randomBytes } from 'node:crypto';
import {
  checkMetadata,
  checkToolResources,
  checkWireMessage,
  isPlainObject,
  THREAD_ID_PATTERN,
} from '../domain/thread-rules.ts';
import { readLimited } from '../http/read-limited.ts';
import { DEFAULT_MAX_BODY_BYTES } from './body-limit.ts';
import { decodeSegment, routeConversations } from './conversations.ts';
import { createResponseRoutes } from './responses/routes.ts';
import { createRunRoutes, type RunOptions } from './runs/routes.ts';
import { MemoryStore } from './store/memory-store.ts';
import {
  type NewStoredMessage,
  type NewStoredThread,
  StorageQuotaError,
  type Store,
  StoreUnavailableError,
  type ThreadPatch,
} from './store/store.ts';

/**
 * The embedded, Threads-API-compatible backend: threads (`POST /v1/threads`, `GET` / `POST` /
 * `DELETE /v1/threads/{id}`) and their messages (`GET` / `POST /v1/threads/{id}/messages`, `GET` /
 * `POST` / `DELETE /v1/threads/{id}/messages/{message_id}`), with the API's object shapes, error
 * bodies, limits, ordering and cursors, over any `Store`.
 *
 * `handle` answers plain request objects: `fetch` wraps it for the SDK's `fetch` option (in-process)
 * and `local-backend/serve.ts` puts it on a port with node:http for any Threads client.
 */
export interface LocalBackendOptions {
  /** Keys it accepts. Empty: any bearer key is accepted (the API still requires one). */
  apiKeys?: readonly string[];
  /** How long an `Idempotency-Key` is remembered. Default 24 hours. */
  idempotencyTtlMs?: number;
  /** Where threads and messages live. Default: a new in-memory store. */
  store?: Store;
  /** Request bodies `fetch` reads at most (the HTTP server in serve.ts has the same limit). Default 2 MiB. */
  maxBodyBytes?: number;
  /** Runs and assistants: the model and the run timeout (runs/routes.ts). */
  runs?: RunOptions;
}

/** One HTTP request, as the backend needs it: no stream, no WHATWG objects. */
export interface BackendRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string without its `?` (list parameters); absent or "" when there is none. */
  search?: string;
  header(name: string): string | null | undefined;
  text(): Promise<string>;
}

/** One answer; `body` is the JSON text. */
export interface BackendAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface LocalBackend {
  readonly store: Store;
  /** Answers one request as the Threads API would (the HTTP server in serve.ts calls this). */
  handle(request: BackendRequest): Promise<BackendAnswer>;
  /** The same, as a fetch handler (Request -> Response): the SDK's `fetch` option in-process. */
  fetch(request: Request): Promise<Response>;
  /** Requests answered so far, by `METHOD /path-shape` (e.g. `GET /v1/threads/{id}/messages`). */
  readonly requests: Map<string, number>;
  /** Stops the runs executing in this process without writing (before the store closes). */
  stop(): Promise<void>;
}

type ErrorType = 'invalid_request_error' | 'authentication_error';

interface ApiErrorBody {
  message: string;
  type: ErrorType;
  param: string | null;
  code: string | null;
}

const CREATE_FIELDS = new Set(['messages', 'metadata', 'tool_resources']);
const MODIFY_FIELDS = new Set(['metadata', 'tool_resources']);
const MESSAGE_MODIFY_FIELDS = new Set(['metadata']);
const LIST_PARAMS = new Set(['limit', 'order', 'after', 'before', 'run_id']);

function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

function json(status: number, body: unknown): BackendAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId() },
    body: JSON.stringify(body),
  };
}

function fail(status: number, error: Partial<ApiErrorBody> & { message: string }): BackendAnswer {
  return json(status, {
    error: { type: 'invalid_request_error', param: null, code: null, ...error },
  });
}

/** The Threads-style 413 both the HTTP server and the in-process path answer past the body limit. */
export function bodyTooLarge(limit: number): BackendAnswer {
  return fail(413, { message: `The request body is larger than ${limit} bytes.`, code: 'request_too_large' });
}

/** The API echoed part of a wrong key in its 401 text; we copy that, so the gateway must hide it. */
function redactedKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

async function readJson(request: BackendRequest): Promise<{ body: unknown } | { error: BackendAnswer }> {
  const text = await request.text();
  if (text.trim() === '') return { body: {} };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return {
      error: fail(400, {
        message: 'We could not parse the JSON body of your request.',
        code: 'invalid_json',
      }),
    };
  }
}

async function readObject(
  request: BackendRequest,
): Promise<{ body: Record<string, unknown> } | { error: BackendAnswer }> {
  const parsed = await readJson(request);
  if ('error' in parsed) return parsed;
  if (!isPlainObject(parsed.body)) return { error: fail(400, { message: 'The body must be a JSON object.' }) };
  return { body: parsed.body };
}

function unknownField(body: Record<string, unknown>, allowed: Set<string>): BackendAnswer | null {
  const extra = Object.keys(body).find((key) => !allowed.has(key));
  if (extra === undefined) return null;
  return fail(400, { message: `Unrecognized request argument supplied: ${extra}`, param: extra });
}

function checkThreadFields(body: Record<string, unknown>): BackendAnswer | null {
  const found =
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    (body.tool_resources == null ? null : checkToolResources(body.tool_resources, 'tool_resources'));
  return found ? fail(400, found) : null;
}

function checkCreate(body: Record<string, unknown>): BackendAnswer | null {
  const extra = unknownField(body, CREATE_FIELDS);
  if (extra) return extra;
  const { messages } = body;
  if (messages != null) {
    if (!Array.isArray(messages)) return fail(400, { message: 'messages: must be an array', param: 'messages' });
    for (const [index, message] of messages.entries()) {
      const found = checkWireMessage(message, `messages[${index}]`);
      if (found) return fail(400, found);
    }
  }
  return checkThreadFields(body);
}

function checkModify(body: Record<string, unknown>): BackendAnswer | null {
  return unknownField(body, MODIFY_FIELDS) ?? checkThreadFields(body);
}

/** A wire message (already checked) as the store keeps it: a string content becomes one text part. */
function toStoredMessage(message: Record<string, unknown>): NewStoredMessage {
  const content = message.content;
  return {
    role: String(message.role),
    content:
      typeof content === 'string'
        ? [{ type: 'text', text: { value: content, annotations: [] } }]
        : (content as unknown[]).map((part) => {
            const typed = part as Record<string, unknown>;
            // Input text parts are `{type: "text", text: "…"}`; stored ones carry value and annotations.
            return typed.type === 'text' ? { type: 'text', text: { value: typed.text, annotations: [] } } : typed;
          }),
    attachments: (message.attachments as unknown[] | null | undefined) ?? null,
    metadata: (message.metadata as Record<string, string> | null | undefined) ?? null,
  };
}

type ListQuery = { limit: number; order: 'asc' | 'desc'; after?: string; before?: string; run_id?: string };

function parseListQuery(search: string): ListQuery | BackendAnswer {
  const params = new URLSearchParams(search);
  for (const name of params.keys()) {
    if (!LIST_PARAMS.has(name)) {
      return fail(400, { message: `Unrecognized request argument supplied: ${name}`, param: name });
    }
  }
  const query: ListQuery = { limit: 20, order: 'desc' };
  const limit = params.get('limit');
  if (limit !== null) {
    const value = Number(limit);
    if (!/^\d{1,3}$/.test(limit) || value < 1 || value > 100) {
      return fail(400, { message: 'limit: must be an integer from 1 to 100.', param: 'limit' });
    }
    query.limit = value;
  }
  const order = params.get('order');
  if (order !== null) {
    if (order !== 'asc' && order !== 'desc') {
      return fail(400, { message: "order: must be 'asc' or 'desc'.", param: 'order' });
    }
    query.order = order;
  }
  // Only the messages that run wrote; still an id with the ids' bounds.
  const runId = params.get('run_id');
  if (runId !== null && !THREAD_ID_PATTERN.test(runId)) {
    return fail(400, { message: 'run_id: must be a run id.', param: 'run_id' });
  }
  if (runId !== null) query.run_id = runId;
  for (const cursor of ['after', 'before'] as const) {
    const value = params.get(cursor);
    if (value === null) continue;
    if (!THREAD_ID_PATTERN.test(value)) {
      return fail(400, { message: `${cursor}: must be a message id of this thread.`, param: cursor });
    }
    query[cursor] = value;
  }
  return query;
}

function fingerprint(method: string, path: string, body: string): string {
  return createHash('sha256').update(`${method} ${path}\u0000${body}`).digest('hex');
}

export function createLocalBackend(options: LocalBackendOptions = {}): LocalBackend {
  const store = options.store ?? new MemoryStore();
  const requests = new Map<string, number>();
  const accepted = new Set(options.apiKeys ?? []);
  const idempotencyTtlMs = options.idempotencyTtlMs ?? 24 * 60 * 60 * 1000;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  function count(method: string, shape: string): void {
    const key = `${method} ${shape}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
  }

  function authenticate(request: BackendRequest): { key: string } | { error: BackendAnswer } {
    const header = request.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      return {
        error: fail(401, {
          message: "You didn't provide an API key. Provide it in an Authorization header (Bearer auth).",
          type: 'authentication_error',
          code: 'missing_api_key',
        }),
      };
    }
    const key = match[1];
    if (accepted.size > 0 && !accepted.has(key)) {
      return {
        error: fail(401, {
          message: `Incorrect API key provided: ${redactedKey(key)}.`,
          type: 'authentication_error',
          code: 'invalid_api_key',
        }),
      };
    }
    return { key };
  }

  /**
   * A create under an `Idempotency-Key`, already scoped to the caller and the route: within the TTL
   * the same key answers what its first create answered; the same key with another request is 409.
   * The Threads routes and the Conversations routes both go through it.
   */
  async function rememberedCreate(
    scopedKey: string,
    requestFingerprint: string,
    create: () => Promise<BackendAnswer>,
  ): Promise<BackendAnswer> {
    const remembered = await store.getIdempotency(scopedKey);
    if (remembered) {
      if (remembered.fingerprint !== requestFingerprint) {
        return fail(409, {
          message: 'This Idempotency-Key was already used with a different request body.',
          code: 'idempotency_key_reused',
        });
      }
      return { ...json(200, null), body: remembered.answer };
    }
    const answer = await create();
    if (answer.status === 200) {
      await store.putIdempotency(scopedKey, {
        fingerprint: requestFingerprint,
        answer: answer.body,
        expiresAt: Date.now() + idempotencyTtlMs,
      });
    }
    return answer;
  }

  /** A Threads create: the key is scoped to the caller's API key and the route. */
  function idempotent(
    request: BackendRequest,
    apiKey: string,
    bodyText: string,
    create: () => Promise<BackendAnswer>,
  ): Promise<BackendAnswer> {
    const key = request.header('idempotency-key');
    if (!key) return create();
    const scoped = createHash('sha256').update(`${apiKey}\u0000${request.path}\u0000${key}`).digest('hex');
    return rememberedCreate(scoped, fingerprint(request.method, request.path, bodyText), create);
  }

  function threadNotFound(id: string): BackendAnswer {
    return fail(404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
  }

  function messageNotFound(id: string): BackendAnswer {
    return fail(404, { message: `No message found with id '${id}'.`, code: 'message_not_found' });
  }

  function notAllowed(method: string): BackendAnswer {
    return fail(405, { message: `Method ${method} is not allowed on this route.` });
  }

  async function createThread(request: BackendRequest, apiKey: string): Promise<BackendAnswer> {
    const text = await request.text();
    const parsed = await readObject({ ...request, text: async () => text });
    if ('error' in parsed) return parsed.error;
    const invalid = checkCreate(parsed.body);
    if (invalid) return invalid;
    return idempotent(request, apiKey, text, async () => {
      const input: NewStoredThread = {
        metadata: (parsed.body.metadata as Record<string, string> | null | undefined) ?? null,
        tool_resources: (parsed.body.tool_resources as Record<string, unknown> | null | undefined) ?? null,
        messages: ((parsed.body.messages as Array<Record<string, unknown>> | null | undefined) ?? []).map(
          toStoredMessage,
        ),
      };
      return json(200, await store.createThread(input));
    });
  }

  async function onThread(request: BackendRequest, id: string): Promise<BackendAnswer> {
    switch (request.method) {
      case 'GET': {
        const thread = await store.getThread(id);
        return thread ? json(200, thread) : threadNotFound(id);
      }
      case 'POST': {
        const parsed = await readObject(request);
        if ('error' in parsed) return parsed.error;
        const invalid = checkModify(parsed.body);
        if (invalid) return invalid;
        const thread = await store.updateThread(id, parsed.body as ThreadPatch);
        return thread ? json(200, thread) : threadNotFound(id);
      }
      case 'DELETE':
        return (await store.deleteThread(id))
          ? json(200, { id, object: 'thread.deleted', deleted: true })
          : threadNotFound(id);
      default:
        return notAllowed(request.method);
    }
  }

  async function onMessages(request: BackendRequest, threadId: string, apiKey: string): Promise<BackendAnswer> {
    if (request.method === 'GET') {
      const query = parseListQuery(request.search ?? '');
      if ('status' in query) return query;
      const result = await store.listMessages(threadId, query);
      if (result.kind === 'no-thread') return threadNotFound(threadId);
      if (result.kind === 'bad-cursor') {
        return fail(400, {
          message: `${result.param}: no message with this id in thread '${threadId}'.`,
          param: result.param,
        });
      }
      return json(200, {
        object: 'list',
        data: result.data,
        first_id: result.data[0]?.id ?? null,
        last_id: result.data.at(-1)?.id ?? null,
        has_more: result.has_more,
      });
    }
    if (request.method !== 'POST') return notAllowed(request.method);
    const text = await request.text();
    const parsed = await readObject({ ...request, text: async () => text });
    if ('error' in parsed) return parsed.error;
    const found = checkWireMessage(parsed.body, '');
    if (found) return fail(400, found);
    return idempotent(request, apiKey, text, async () => {
      const message = await store.createMessage(threadId, toStoredMessage(parsed.body));
      return message ? json(200, message) : threadNotFound(threadId);
    });
  }

  async function onMessage(request: BackendRequest, threadId: string, id: string): Promise<BackendAnswer> {
    switch (request.method) {
      case 'GET': {
        const message = await store.getMessage(threadId, id);
        return message ? json(200, message) : messageNotFound(id);
      }
      case 'POST': {
        const parsed = await readObject(request);
        if ('error' in parsed) return parsed.error;
        const invalid = unknownField(parsed.body, MESSAGE_MODIFY_FIELDS);
        if (invalid) return invalid;
        const found = parsed.body.metadata == null ? null : checkMetadata(parsed.body.metadata, 'metadata');
        if (found) return fail(400, found);
        const message = await store.updateMessage(
          threadId,
          id,
          (parsed.body.metadata as Record<string, string> | null | undefined) ?? {},
        );
        return message ? json(200, message) : messageNotFound(id);
      }
      case 'DELETE':
        return (await store.deleteMessage(threadId, id))
          ? json(200, { id, object: 'thread.message.deleted', deleted: true })
          : messageNotFound(id);
      default:
        return notAllowed(request.method);
    }
  }

  const runRoutes = createRunRoutes({ store, json, authenticate, count, rememberedCreate }, options.runs);
  const responseRoutes = createResponseRoutes({ store, json, authenticate, count, rememberedCreate }, options.runs);

  const SHAPES = ['/v1/threads', '/v1/threads/{id}', '/v1/threads/{id}/messages', '/v1/threads/{id}/messages/{id}'];

  async function route(request: BackendRequest): Promise<BackendAnswer> {
    const pathname = request.path;
    // ['', 'v1', 'threads', id?, 'messages'?, message id?]
    const segments = pathname.split('/');
    const runAnswer = (await runRoutes.route(request)) ?? (await responseRoutes.route(request));
    if (runAnswer) return runAnswer;
    if (segments[1] === 'v1' && segments[2] === 'conversations') {
      return routeConversations(request, { store, rememberedCreate, json, authenticate, count });
    }
    const isThreads = segments.length >= 3 && segments.length <= 6 && segments[1] === 'v1' && segments[2] === 'threads';
    const isKnown = isThreads && (segments.length <= 4 || segments[4] === 'messages');
    if (!isKnown) {
      count(request.method, 'unknown');
      return fail(404, { message: `Invalid URL (${request.method} ${pathname})`, code: 'unknown_url' });
    }
    count(request.method, SHAPES[segments.length - 3] ?? 'unknown');

    const auth = authenticate(request);
    if ('error' in auth) return auth.error;
    if (!/\bassistants=v2\b/.test(request.header('openai-beta') ?? '')) {
      return fail(400, {
        message: 'You must provide the "OpenAI-Beta: assistants=v2" header to use the Assistants API.',
        code: 'invalid_beta',
      });
    }
    const [, , , rawThreadId, , rawMessageId] = segments;
    if (rawThreadId === undefined) {
      return request.method === 'POST' ? createThread(request, auth.key) : notAllowed(request.method);
    }
    const threadId = decodeSegment(rawThreadId);
    if (threadId === undefined || !THREAD_ID_PATTERN.test(threadId)) return threadNotFound(threadId ?? rawThreadId);
    if (segments.length === 4) return onThread(request, threadId);
    if (rawMessageId === undefined) return onMessages(request, threadId, auth.key);
    const messageId = decodeSegment(rawMessageId);
    if (messageId === undefined || !THREAD_ID_PATTERN.test(messageId))
      return messageNotFound(messageId ?? rawMessageId);
    return onMessage(request, threadId, messageId);
  }

  async function handle(request: BackendRequest): Promise<BackendAnswer> {
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof StorageQuotaError) {
        // 429, as OpenAI answers an exhausted quota; Retry-After says waiting will not help soon,
        // so the gateway answers RATE_LIMITED at once instead of retrying within the request.
        const answer = fail(429, {
          message: 'The storage quota is used up; delete threads to make room.',
          code: 'storage_quota',
        });
        answer.headers['retry-after'] = '3600';
        return answer;
      }
      if (error instanceof StoreUnavailableError) {
        // Nothing was written: a 503 the gateway reports with a code (and retries where safe).
        return fail(503, {
          message: 'The local backend cannot reach its storage right now.',
          code: 'store_unavailable',
        });
      }
      return fail(500, { message: 'The local backend failed to answer this request.' });
    }
  }

  return {
    store,
    requests,
    handle,
    stop: async () => void (await Promise.all([runRoutes.stop(), responseRoutes.stop()])),
    async fetch(request) {
      const url = new URL(request.url);
      const declared = Number(request.headers.get('content-length') ?? Number.NaN);
      const body = request.body
        ? await readLimited(request.body, maxBodyBytes, Number.isFinite(declared) ? declared : undefined)
        : '';
      const answer =
        body === undefined
          ? bodyTooLarge(maxBodyBytes)
          : await handle({
              method: request.method,
              path: url.pathname,
              search: url.search.slice(1),
              header: (name) => request.headers.get(name),
              text: async () => body,
            });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  };
}
