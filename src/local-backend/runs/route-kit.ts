import { createHash } from 'node:crypto';
import { isPlainObject, type RuleProblem, THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import type { BackendAnswer, BackendRequest } from '../backend.ts';
import type { ListQuery, ListResult } from '../store/run-store.ts';
import type { Store } from '../store/store.ts';
import type { RunDriver } from './run-driver.ts';

/** What the backend's router lends the runs and assistants routes (as it does the Conversations ones). */
export interface RunRouteDeps {
  store: Store;
  json(status: number, body: unknown): BackendAnswer;
  authenticate(request: BackendRequest): { key: string } | { error: BackendAnswer };
  count(method: string, shape: string): void;
  /** The backend's Idempotency-Key mechanism. */
  rememberedCreate(
    scopedKey: string,
    fingerprint: string,
    create: () => Promise<BackendAnswer>,
  ): Promise<BackendAnswer>;
}

/** One authenticated request's view. */
export interface RunRouteContext {
  deps: RunRouteDeps;
  driver: RunDriver;
  apiKey: string;
  /** LOCAL_BACKEND_RUN_TIMEOUT_S, in milliseconds. */
  runTimeoutMs: number;
}

export function fail(
  ctx: RunRouteContext,
  status: number,
  error: { message: string; param?: string | null; code?: string | null },
): BackendAnswer {
  return ctx.deps.json(status, { error: { type: 'invalid_request_error', param: null, code: null, ...error } });
}

export function invalid(ctx: RunRouteContext, found: RuleProblem): BackendAnswer {
  return fail(ctx, 400, found);
}

export function notAllowed(ctx: RunRouteContext, method: string): BackendAnswer {
  return fail(ctx, 405, { message: `Method ${method} is not allowed on this route.` });
}

/** The body as a JSON object, or the API's 400; its text is kept for the idempotency fingerprint. */
export async function readObject(
  ctx: RunRouteContext,
  request: BackendRequest,
): Promise<{ body: Record<string, unknown>; text: string } | { error: BackendAnswer }> {
  const text = await request.text();
  if (text.trim() === '') return { body: {}, text };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      error: fail(ctx, 400, { message: 'We could not parse the JSON body of your request.', code: 'invalid_json' }),
    };
  }
  if (!isPlainObject(body)) return { error: fail(ctx, 400, { message: 'The body must be a JSON object.' }) };
  return { body, text };
}

export function unknownField(ctx: RunRouteContext, body: Record<string, unknown>, allowed: readonly string[]) {
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  if (extra === undefined) return null;
  return fail(ctx, 400, { message: `Unrecognized request argument supplied: ${extra}`, param: extra });
}

/** `limit`, `order`, `after`, `before`, as the messages list reads them. */
export function parseListQuery(ctx: RunRouteContext, search: string): ListQuery | BackendAnswer {
  const params = new URLSearchParams(search);
  const query: ListQuery = { limit: 20, order: 'desc' };
  for (const [name, value] of params) {
    if (name === 'limit') {
      if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
        return fail(ctx, 400, { message: 'limit: must be an integer from 1 to 100.', param: 'limit' });
      }
      query.limit = Number(value);
    } else if (name === 'order') {
      if (value !== 'asc' && value !== 'desc') {
        return fail(ctx, 400, { message: "order: must be 'asc' or 'desc'.", param: 'order' });
      }
      query.order = value;
    } else if (name === 'after' || name === 'before') {
      if (!THREAD_ID_PATTERN.test(value)) return fail(ctx, 400, { message: `${name}: must be an id.`, param: name });
      query[name] = value;
    } else {
      return fail(ctx, 400, { message: `Unrecognized request argument supplied: ${name}`, param: name });
    }
  }
  return query;
}

/** A list page as the API answers it, or the 400 for a cursor that names nothing in the list. */
export function listAnswer<T extends { id: string }>(
  ctx: RunRouteContext,
  result: Exclude<ListResult<T>, { kind: 'no-thread' }>,
): BackendAnswer {
  if (result.kind === 'bad-cursor') {
    return fail(ctx, 400, { message: `${result.param}: no object with this id in the list.`, param: result.param });
  }
  return ctx.deps.json(200, {
    object: 'list',
    data: result.data,
    first_id: result.data[0]?.id ?? null,
    last_id: result.data.at(-1)?.id ?? null,
    has_more: result.has_more,
  });
}

/** A create under an `Idempotency-Key`, scoped as the Threads routes scope theirs (caller key, path). */
export function idempotent(
  ctx: RunRouteContext,
  request: BackendRequest,
  text: string,
  create: () => Promise<BackendAnswer>,
): Promise<BackendAnswer> {
  const key = request.header('idempotency-key');
  if (!key) return create();
  const scoped = createHash('sha256').update(`${ctx.apiKey}\u0000${request.path}\u0000${key}`).digest('hex');
  const fingerprint = createHash('sha256').update(`${request.method} ${request.path}\u0000${text}`).digest('hex');
  return ctx.deps.rememberedCreate(scoped, fingerprint, create);
}

/** A path segment as an id; a malformed one is no id (the route answers 404). */
export function segmentId(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    const id = decodeURIComponent(segment);
    return THREAD_ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
