import { randomBytes } from 'node:crypto';
import {
  checkMetadata,
  checkToolResources,
  checkWireMessage,
  isPlainObject,
  THREAD_ID_PATTERN,
} from '../domain/thread-rules.ts';
import { type NewThread, ThreadStore } from './store.ts';

/**
 * The embedded, Threads-API-compatible backend: `POST /v1/threads` and `GET` / `POST` / `DELETE
 * /v1/threads/{id}`, with the API's object shapes, error bodies and limits.
 *
 * `handle` answers plain request objects: `fetch` wraps it for the SDK's `fetch` option (in-process)
 * and `local-backend/serve.ts` puts it on a port with node:http for any Threads client.
 */
export interface LocalBackendOptions {
  /** Keys it accepts. Empty: any bearer key is accepted (the API still requires one). */
  apiKeys?: readonly string[];
  /** How long an `Idempotency-Key` is remembered. Default 24 hours. */
  idempotencyTtlMs?: number;
}

/** One HTTP request, as the backend needs it: no stream, no WHATWG objects. */
export interface BackendRequest {
  method: string;
  /** The path without the query string. */
  path: string;
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
  readonly store: ThreadStore;
  /** Answers one request as the Threads API would (the HTTP server in serve.ts calls this). */
  handle(request: BackendRequest): Promise<BackendAnswer>;
  /** The same, as a fetch handler (Request -> Response): the SDK's `fetch` option in-process. */
  fetch(request: Request): Promise<Response>;
  /** Requests answered so far, by `METHOD /path-shape` (e.g. `GET /v1/threads/{id}`). */
  readonly requests: Map<string, number>;
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

export function createLocalBackend(options: LocalBackendOptions = {}): LocalBackend {
  const store = new ThreadStore();
  const requests = new Map<string, number>();
  const accepted = new Set(options.apiKeys ?? []);
  const idempotencyTtlMs = options.idempotencyTtlMs ?? 24 * 60 * 60 * 1000;
  const idempotent = new Map<string, { threadId: string; expiresAt: number }>();

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

  function forgetExpired(now: number): void {
    for (const [key, entry] of idempotent) {
      if (entry.expiresAt > now) break;
      idempotent.delete(key);
    }
  }

  async function create(request: BackendRequest, apiKey: string): Promise<BackendAnswer> {
    const parsed = await readJson(request);
    if ('error' in parsed) return parsed.error;
    if (!isPlainObject(parsed.body)) return fail(400, { message: 'The body must be a JSON object.' });
    const invalid = checkCreate(parsed.body);
    if (invalid) return invalid;

    const idempotencyKey = request.header('idempotency-key');
    const now = Date.now();
    forgetExpired(now);
    const remembered = idempotencyKey ? idempotent.get(`${apiKey}\u0000${idempotencyKey}`) : undefined;
    if (remembered) {
      const thread = store.get(remembered.threadId);
      if (thread) return json(200, thread);
    }
    const thread = store.create(parsed.body as NewThread);
    if (idempotencyKey) {
      idempotent.set(`${apiKey}\u0000${idempotencyKey}`, { threadId: thread.id, expiresAt: now + idempotencyTtlMs });
    }
    return json(200, thread);
  }

  function notFound(id: string): BackendAnswer {
    return fail(404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
  }

  async function onThread(request: BackendRequest, id: string): Promise<BackendAnswer> {
    switch (request.method) {
      case 'GET': {
        const thread = store.get(id);
        return thread ? json(200, thread) : notFound(id);
      }
      case 'POST': {
        const parsed = await readJson(request);
        if ('error' in parsed) return parsed.error;
        if (!isPlainObject(parsed.body)) return fail(400, { message: 'The body must be a JSON object.' });
        const invalid = checkModify(parsed.body);
        if (invalid) return invalid;
        const thread = store.update(id, parsed.body);
        return thread ? json(200, thread) : notFound(id);
      }
      case 'DELETE':
        return store.delete(id) ? json(200, { id, object: 'thread.deleted', deleted: true }) : notFound(id);
      default:
        return fail(405, { message: `Method ${request.method} is not allowed on this route.` });
    }
  }

  async function route(request: BackendRequest): Promise<BackendAnswer> {
    const pathname = request.path;
    const segments = pathname.split('/');
    // ['', 'v1', 'threads'] or ['', 'v1', 'threads', id]
    const isThreads = segments.length >= 3 && segments[1] === 'v1' && segments[2] === 'threads';
    if (!isThreads || segments.length > 4) {
      count(request.method, 'unknown');
      return fail(404, { message: `Invalid URL (${request.method} ${pathname})`, code: 'unknown_url' });
    }
    const id = segments[3];
    count(request.method, id === undefined ? '/v1/threads' : '/v1/threads/{id}');

    const auth = authenticate(request);
    if ('error' in auth) return auth.error;
    if (!/\bassistants=v2\b/.test(request.header('openai-beta') ?? '')) {
      return fail(400, {
        message: 'You must provide the "OpenAI-Beta: assistants=v2" header to use the Assistants API.',
        code: 'invalid_beta',
      });
    }
    if (id === undefined) {
      if (request.method !== 'POST') {
        return fail(405, { message: `Method ${request.method} is not allowed on this route.` });
      }
      return create(request, auth.key);
    }
    if (!THREAD_ID_PATTERN.test(id)) return notFound(decodeURIComponent(id));
    return onThread(request, id);
  }

  async function handle(request: BackendRequest): Promise<BackendAnswer> {
    try {
      return await route(request);
    } catch {
      return fail(500, { message: 'The local backend failed to answer this request.' });
    }
  }

  return {
    store,
    requests,
    handle,
    async fetch(request) {
      const answer = await handle({
        method: request.method,
        path: new URL(request.url).pathname,
        header: (name) => request.headers.get(name),
        text: () => request.text(),
      });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  };
}
