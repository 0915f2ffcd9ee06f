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
 * It is a plain fetch handler (Request -> Response), so the SDK can reach it in-process through its
 * `fetch` option, and `local-backend/serve.ts` can put it on a port for any Threads client.
 */
export interface LocalBackendOptions {
  /** Keys it accepts. Empty: any bearer key is accepted (the API still requires one). */
  apiKeys?: readonly string[];
  /** How long an `Idempotency-Key` is remembered. Default 24 hours. */
  idempotencyTtlMs?: number;
}

export interface LocalBackend {
  readonly store: ThreadStore;
  /** Answers one HTTP request as the Threads API would. */
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

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId() },
  });
}

function fail(status: number, error: Partial<ApiErrorBody> & { message: string }): Response {
  return json(status, {
    error: { type: 'invalid_request_error', param: null, code: null, ...error },
  });
}

/** The API echoed part of a wrong key in its 401 text; we copy that, so the gateway must hide it. */
function redactedKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

async function readJson(request: Request): Promise<{ body: unknown } | { error: Response }> {
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

function unknownField(body: Record<string, unknown>, allowed: Set<string>): Response | null {
  const extra = Object.keys(body).find((key) => !allowed.has(key));
  if (extra === undefined) return null;
  return fail(400, { message: `Unrecognized request argument supplied: ${extra}`, param: extra });
}

function checkThreadFields(body: Record<string, unknown>): Response | null {
  const found =
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    (body.tool_resources == null ? null : checkToolResources(body.tool_resources, 'tool_resources'));
  return found ? fail(400, found) : null;
}

function checkCreate(body: Record<string, unknown>): Response | null {
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

function checkModify(body: Record<string, unknown>): Response | null {
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

  function authenticate(request: Request): { key: string } | { error: Response } {
    const header = request.headers.get('authorization') ?? '';
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

  async function create(request: Request, apiKey: string): Promise<Response> {
    const parsed = await readJson(request);
    if ('error' in parsed) return parsed.error;
    if (!isPlainObject(parsed.body)) return fail(400, { message: 'The body must be a JSON object.' });
    const invalid = checkCreate(parsed.body);
    if (invalid) return invalid;

    const idempotencyKey = request.headers.get('idempotency-key');
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

  function notFound(id: string): Response {
    return fail(404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
  }

  async function onThread(request: Request, id: string): Promise<Response> {
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

  async function handle(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
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
    if (!/\bassistants=v2\b/.test(request.headers.get('openai-beta') ?? '')) {
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

  return {
    store,
    requests,
    async fetch(request) {
      try {
        return await handle(request);
      } catch {
        return fail(500, { message: 'The local backend failed to answer this request.' });
      }
    },
  };
}
