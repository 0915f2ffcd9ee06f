import type { Config } from '../config/config.ts';
import type { IdempotentCreates } from '../features/idempotency/idempotent-creates.ts';
import type { RateLimiter } from '../features/rate-limit/rate-limiter.ts';
import { type AnswerWarning, CallerThreads } from '../features/thread-index/caller-threads.ts';
import type { ThreadIndex } from '../features/thread-index/thread-index.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import type { RequestStates } from '../http/request-state.ts';
import type { Live } from '../live/live.ts';
import { createMessageLoaders, type MessageLoaders } from '../loaders/message-loaders.ts';
import { createRunLoaders, type RunLoaders } from '../loaders/run-loaders.ts';
import { createThreadLoader, type ThreadLoader } from '../loaders/thread-loader.ts';
import type { UpstreamSession } from '../upstream/calls/call-session.ts';
import { RequestBudget } from '../upstream/calls/request-budget.ts';
import type { UpstreamHealth } from '../upstream/detection/health.ts';
import { RequestUpstream } from '../upstream/request-scoped-api.ts';
import type { UpstreamApi } from '../upstream/upstream-api.ts';
import { createPace, type Pace } from './pace.ts';

/** What every resolver gets: made fresh for each GraphQL request, never shared. */
export interface GatewayContext {
  readonly requestId: string;
  /** Who is calling, for scoping idempotency keys: a fingerprint, never a key. */
  readonly callerId: string;
  /** The upstream API (whichever adapter), bound to this request's session. */
  readonly upstream: RequestUpstream;
  readonly loaders: {
    readonly thread: ThreadLoader;
    readonly messages: MessageLoaders;
    /** Runs and assistants. */
    readonly runs: RunLoaders;
  };
  readonly idempotentCreates: IdempotentCreates;
  /** The caller's thread list (`viewer.threads`). */
  readonly threadList: CallerThreads;
  /** Notes for `extensions.warnings` of the answer (answer-warnings.ts adds them). */
  readonly warnings: AnswerWarning[];
  /** Subscriptions (shared by every request of the instance). */
  readonly live: Live;
  /** Aborted when the request's client goes away: a subscription opened for it ends then. */
  readonly signal: AbortSignal | undefined;
  /** Hands a connection's items to execution, pausing a long answer now and then (pace.ts). */
  readonly pace: Pace;
  /**
   * Before each event of a subscription (whose context lives as long as it does): a fresh deadline
   * and budget for its upstream calls, and fresh loaders, so an event reads what is there now.
   */
  readonly freshEvent: () => void;
}

export interface ContextDeps {
  config: Config;
  states: RequestStates;
  upstream: UpstreamApi;
  health: UpstreamHealth;
  idempotentCreates: IdempotentCreates;
  rateLimiter: RateLimiter;
  metrics: GatewayMetrics;
  threadIndex: ThreadIndex;
  live: Live;
}

/**
 * The one place a request's context is made: its own budget (with its caller's rate limit),
 * deadline and loaders. Yoga calls it once per request; in-process callers (`gateway.createContext`)
 * call it once per operation. Never shared.
 */
export function createContextFactory(deps: ContextDeps): (request: Request) => GatewayContext {
  const { config } = deps;
  return (request) => {
    const state = deps.states.of(request);
    const session = (): UpstreamSession => ({
      credential: state.caller.ok ? state.caller.credential : undefined,
      deadline: Date.now() + config.requestDeadlineMs,
      budget: new RequestBudget(
        config.upstreamConcurrency,
        config.limits.upstreamCalls,
        state.caller.ok ? deps.rateLimiter.forCaller(state.caller.callerId, state.caller.perMinute) : undefined,
      ),
      onCall: deps.metrics.observeUpstream,
    });
    const upstream = new RequestUpstream(deps.upstream, session(), deps.health);
    state.upstreamCalls = () => upstream.session.budget.calls;
    // Message loaders only for requests that read messages: most never do, and every object made
    // here lives as long as the request (500 ms and more against a hosted API).
    let thread: ThreadLoader | undefined;
    let messages: MessageLoaders | undefined;
    let runs: RunLoaders | undefined;
    let threadList: CallerThreads | undefined;
    const callerId = state.caller.ok ? state.caller.callerId : 'anonymous';
    const warnings: AnswerWarning[] = [];
    return {
      requestId: state.requestId,
      callerId,
      upstream,
      loaders: {
        get thread() {
          thread ??= createThreadLoader(upstream, deps.metrics.observeBatch);
          return thread;
        },
        get messages() {
          messages ??= createMessageLoaders(upstream);
          return messages;
        },
        get runs() {
          runs ??= createRunLoaders(upstream);
          return runs;
        },
      },
      idempotentCreates: deps.idempotentCreates,
      get threadList() {
        threadList ??= new CallerThreads(deps.threadIndex, callerId, config.maxThreadsPerCaller, (warning) =>
          warnings.push(warning),
        );
        return threadList;
      },
      warnings,
      live: deps.live,
      signal: request.signal,
      pace: createPace(),
      freshEvent: () => {
        upstream.renew(session);
        thread = undefined;
        messages = undefined;
        runs = undefined;
      },
    };
  };
}
