import type { BackendAnswer, BackendRequest } from '../backend.ts';
import { type ModelSettings, modelResolver } from '../model/model-for-run.ts';
import { ACTIVE_STATUSES } from '../store/run-store.ts';
import { handleAssistants } from './assistant-routes.ts';
import { fail, type RunRouteContext, type RunRouteDeps, segmentId } from './route-kit.ts';
import { RunDriver } from './run-driver.ts';
import { handleRuns, threadNotFound } from './run-routes.ts';

/** The runs settings of the local backend (LOCAL_BACKEND_MODEL_URL, _KEY, LOCAL_BACKEND_RUN_TIMEOUT_S). */
export interface RunOptions {
  model?: ModelSettings;
  /** How long a run may take from its creation before it is `expired`. Default 600 s. */
  timeoutMs?: number;
}

export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

export interface RunRoutes {
  /** Answers `/v1/assistants…` and `/v1/threads/{id}/runs…`; undefined for any other request. */
  route(request: BackendRequest): Promise<BackendAnswer | undefined>;
  /** Stops the model calls in flight without writing (shutdown; the next start recovers them). */
  stop(): Promise<void>;
}

/** `['', 'v1', kind, …]` as a route, or undefined when the path is not ours. */
function match(segments: string[]): { kind: 'assistants' | 'runs' | 'message-create'; shape: string } | undefined {
  if (segments[1] !== 'v1') return undefined;
  if (segments[2] === 'assistants' && segments.length <= 4) {
    return { kind: 'assistants', shape: segments.length === 3 ? '/v1/assistants' : '/v1/assistants/{id}' };
  }
  if (segments[2] !== 'threads' || segments[3] === undefined) return undefined;
  if (segments[4] === 'messages' && segments.length === 5) return { kind: 'message-create', shape: '' };
  if (segments[4] !== 'runs' || segments.length > 7) return undefined;
  if (segments.length === 7 && segments[6] !== 'submit_tool_outputs' && segments[6] !== 'cancel') return undefined;
  const shapes = ['/v1/threads/{id}/runs', '/v1/threads/{id}/runs/{id}', `/v1/threads/{id}/runs/{id}/${segments[6]}`];
  return { kind: 'runs', shape: shapes[segments.length - 5] ?? 'unknown' };
}

/**
 * The runs and assistants routes and the run driver behind them. The backend's router asks them
 * first; they also refuse a new message on a thread with an active run, as the API does.
 * Creating them starts the restart recovery (see RunDriver.ready).
 */
export function createRunRoutes(deps: RunRouteDeps, options: RunOptions = {}): RunRoutes {
  const driver = new RunDriver({ store: deps.store, model: modelResolver(options.model ?? {}) });
  driver.ready().catch(() => undefined); // retried by the first runs request when the store is not open yet
  const runTimeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;

  /** `POST …/messages` while a run is active: 400. Anything else falls through to the Threads routes. */
  async function guardMessages(ctx: RunRouteContext, threadId: string): Promise<BackendAnswer | undefined> {
    const active = await deps.store.runs.activeRun(threadId);
    if (!active) return undefined;
    // A run past its expiry is expired now, and no longer holds the thread.
    const { run } = await driver.current({ run: active, rounds: [] });
    if (!ACTIVE_STATUSES.includes(run.status)) return undefined;
    return fail(ctx, 400, { message: `Can't add messages to ${threadId} while a run ${run.id} is active.` });
  }

  async function route(request: BackendRequest): Promise<BackendAnswer | undefined> {
    const segments = request.path.split('/');
    const matched = match(segments);
    if (!matched) return undefined;
    const isGuard = matched.kind === 'message-create';
    if (isGuard && request.method !== 'POST') return undefined;
    if (!isGuard) deps.count(request.method, matched.shape);
    const auth = deps.authenticate(request);
    const beta = /\bassistants=v2\b/.test(request.header('openai-beta') ?? '');
    // The Threads routes answer the guard's requests (and their auth errors) themselves.
    if (isGuard && ('error' in auth || !beta)) return undefined;
    if ('error' in auth) return auth.error;
    const ctx: RunRouteContext = { deps, driver, apiKey: auth.key, runTimeoutMs };
    if (!beta) {
      return fail(ctx, 400, {
        message: 'You must provide the "OpenAI-Beta: assistants=v2" header to use the Assistants API.',
        code: 'invalid_beta',
      });
    }
    await driver.ready();
    if (matched.kind === 'assistants') {
      const id = segments[3] === undefined ? undefined : segmentId(segments[3]);
      if (segments[3] !== undefined && id === undefined) {
        return fail(ctx, 404, { message: `No assistant found with id '${segments[3]}'.`, code: 'assistant_not_found' });
      }
      return handleAssistants(ctx, request, id);
    }
    const threadId = segmentId(segments[3]);
    if (threadId === undefined) return isGuard ? undefined : threadNotFound(ctx, segments[3] ?? '');
    if (isGuard) return guardMessages(ctx, threadId);
    const runId = segments[5] === undefined ? undefined : segmentId(segments[5]);
    if (segments[5] !== undefined && runId === undefined) {
      return fail(ctx, 404, { message: `No run found with id '${segments[5]}'.`, code: 'run_not_found' });
    }
    return handleRuns(ctx, request, threadId, runId, segments[6]);
  }

  return { route, stop: () => driver.stop() };
}
