import { type BackendAnswer, fail } from '../http/answer.ts';
import { type Authenticate, assistantsApiGuard } from '../http/auth.ts';
import type { RememberedCreate } from '../http/idempotency.ts';
import { rawShownId } from '../http/ids.ts';
import type { RouteSection, RouteTable } from '../http/route-table.ts';
import { type ModelSettings, modelResolver } from '../model/model-for-run.ts';
import { ACTIVE_STATUSES } from '../store/run-store.ts';
import type { Store } from '../store/store.ts';
import type { StreamLimits } from '../streams/event-log.ts';
import { registerAssistantRoutes } from './assistant-routes.ts';
import { assistantNotFound, type RunRouteContext, runNotFound, threadNotFound } from './route-kit.ts';
import { RunDriver } from './run-driver.ts';
import { RunEvents } from './run-events.ts';
import { registerRunRoutes } from './run-routes.ts';
import { stepNotFound } from './run-step-routes.ts';

/** The runs settings of the local backend (LOCAL_BACKEND_MODEL_URL, _KEY, LOCAL_BACKEND_RUN_TIMEOUT_S). */
export interface RunOptions {
  model?: ModelSettings;
  /** How long a run may take from its creation before it is `expired`. Default 600 s. */
  timeoutMs?: number;
}

export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

/** What the runs and assistants routes are given by the backend. */
export interface RunRouteDeps {
  store: Store;
  authenticate: Authenticate;
  remembered: RememberedCreate;
  /** The bounds of streamed runs and responses. */
  streams: StreamLimits;
  /** Asked before a response writes into a conversation: one with an active Threads run takes nothing. */
  beforeMessageCreate?(threadId: string): Promise<BackendAnswer | undefined>;
}

export interface RunRoutes {
  /**
   * Asked before a message is added to a thread: a thread with an active run takes none (400), as
   * in the API. The Threads routes call it (the backend hands it to them).
   */
  beforeMessageCreate(threadId: string): Promise<BackendAnswer | undefined>;
  /** Stops the model calls in flight without writing (shutdown; the next start recovers them). */
  stop(): Promise<void>;
}

/**
 * The runs and assistants routes, registered into the backend's table, and the run driver behind
 * them. Creating them starts the restart recovery (see RunDriver.ready); every request of theirs
 * waits for it after its key and beta header are checked.
 */
export function registerRunAndAssistantRoutes(
  table: RouteTable,
  deps: RunRouteDeps,
  options: RunOptions = {},
): RunRoutes {
  const events = new RunEvents(deps.streams);
  const driver = new RunDriver({ store: deps.store, model: modelResolver(options.model ?? {}), events });
  driver.ready().catch(() => undefined); // retried by the first runs request when the store is not open yet
  const ctx: RunRouteContext = {
    store: deps.store,
    driver,
    events,
    remembered: deps.remembered,
    runTimeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
  };
  const checked = assistantsApiGuard(deps.authenticate);
  const guard: RouteSection['guard'] = async (request) => {
    const caller = await checked(request);
    if (!('error' in caller)) await driver.ready();
    return caller;
  };
  const runIds = [rawShownId(threadNotFound), rawShownId(runNotFound), rawShownId(stepNotFound)];
  registerRunRoutes(table, { guard, ids: runIds }, ctx);
  registerAssistantRoutes(table, { guard, ids: [rawShownId(assistantNotFound)] }, ctx);

  async function beforeMessageCreate(threadId: string): Promise<BackendAnswer | undefined> {
    await driver.ready();
    const active = await deps.store.runs.activeRun(threadId);
    if (!active) return undefined;
    // A run past its expiry is expired now, and no longer holds the thread.
    const { run } = await driver.current({ run: active, rounds: [] });
    if (!ACTIVE_STATUSES.includes(run.status)) return undefined;
    return fail(400, { message: `Can't add messages to ${threadId} while a run ${run.id} is active.` });
  }

  async function stop(): Promise<void> {
    await driver.stop();
    events.endAll();
  }

  return { beforeMessageCreate, stop };
}
