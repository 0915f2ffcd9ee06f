import { readLimited } from '../http/read-limited.ts';
import { registerConversationRoutes } from './conversations/conversation-routes.ts';
import { type AnswerStream, type BackendAnswer, type BackendRequest, bodyTooLarge, fail } from './http/answer.ts';
import { bearerAuth } from './http/auth.ts';
import { DEFAULT_MAX_BODY_BYTES } from './http/body-limit.ts';
import { rememberedCreates } from './http/idempotency.ts';
import { RouteTable } from './http/route-table.ts';
import { registerResponseRoutes } from './responses/routes.ts';
import { type RunOptions, registerRunAndAssistantRoutes } from './runs/routes.ts';
import { MemoryStore } from './store/memory-store.ts';
import { StorageQuotaError, type Store, StoreUnavailableError } from './store/store.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './streams/event-log.ts';
import { registerMessageRoutes } from './threads/message-routes.ts';
import { registerThreadRoutes } from './threads/thread-routes.ts';

/**
 * The embedded, Threads-API-compatible backend: threads and their messages (threads/), the
 * Conversations API over the same store (conversations/), assistants and runs (runs/), responses
 * (responses/), with the API's object shapes, error bodies, limits, ordering and cursors, over any `Store`. Each family
 * registers its routes into one `RouteTable` (http/route-table.ts), which answers every request.
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
  /** Runs, assistants and responses: the model and the run timeout (runs/routes.ts). */
  runs?: RunOptions;
  /** The bounds of streamed runs and responses, and how long a background response's events stay. */
  streams?: Partial<StreamLimits>;
}

export interface LocalBackend {
  readonly store: Store;
  /** Answers one request as the Threads API would (the HTTP server in serve.ts calls this). */
  handle(request: BackendRequest): Promise<BackendAnswer>;
  /** The same, as a fetch handler (Request -> Response): the SDK's `fetch` option in-process. */
  fetch(request: Request): Promise<Response>;
  /** Requests answered so far, by `METHOD /path-shape` (e.g. `GET /v1/threads/{id}/messages`). */
  readonly requests: Map<string, number>;
  /** Every route it serves, as `METHOD /path-shape` (the conformance test exercises each). */
  readonly routes: readonly string[];
  /** Stops the runs and responses executing in this process without writing (before the store closes). */
  stop(): Promise<void>;
}

/** A store error as the API would answer it; anything else is a 500 that tells nothing. */
function storeFailure(error: unknown): BackendAnswer {
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
    return fail(503, { message: 'The local backend cannot reach its storage right now.', code: 'store_unavailable' });
  }
  return fail(500, { message: 'The local backend failed to answer this request.' });
}

/** A streamed answer as a fetch body: a piece is asked for only when the reader wants one. */
function readableOf(stream: AnswerStream): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const piece = await stream.next();
        if (piece !== undefined) return controller.enqueue(encoder.encode(piece));
        stream.close();
        controller.close();
      },
      cancel: () => stream.close(),
    },
    { highWaterMark: 0 },
  );
}

/** `handle` as a fetch handler; bodies past the limit are answered 413 without being read further. */
function fetchHandler(
  handle: (request: BackendRequest) => Promise<BackendAnswer>,
  maxBodyBytes: number,
): (request: Request) => Promise<Response> {
  return async (request) => {
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
    return new Response(answer.stream ? readableOf(answer.stream) : answer.body, {
      status: answer.status,
      headers: answer.headers,
    });
  };
}

export function createLocalBackend(options: LocalBackendOptions = {}): LocalBackend {
  const store = options.store ?? new MemoryStore();
  const deps = {
    store,
    authenticate: bearerAuth(options.apiKeys ?? []),
    remembered: rememberedCreates(store, options.idempotencyTtlMs ?? 24 * 60 * 60 * 1000),
    streams: { ...DEFAULT_STREAM_LIMITS, ...options.streams },
  };
  const table = new RouteTable();
  const runs = registerRunAndAssistantRoutes(table, deps, options.runs);
  registerThreadRoutes(table, deps);
  // A thread with an active run takes no message by any route (messages, items, responses).
  const guarded = { ...deps, beforeMessageCreate: runs.beforeMessageCreate };
  registerMessageRoutes(table, guarded);
  registerConversationRoutes(table, guarded);
  const responses = registerResponseRoutes(table, guarded, options.runs);

  async function handle(request: BackendRequest): Promise<BackendAnswer> {
    try {
      return await table.dispatch(request);
    } catch (error) {
      return storeFailure(error);
    }
  }

  return {
    store,
    requests: table.requests,
    routes: table.routes,
    handle,
    stop: async () => void (await Promise.all([runs.stop(), responses.stop()])),
    fetch: fetchHandler(handle, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
  };
}
