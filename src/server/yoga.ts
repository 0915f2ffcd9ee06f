import { randomUUID } from 'node:crypto';
import { type GraphQLSchema, getOperationAST } from 'graphql';
import { type CORSOptions, createYoga, type Plugin, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from '../config.ts';
import { createThreadLoader } from '../loaders/thread-loader.ts';
import type { UpstreamHealth } from '../upstream/health.ts';
import { RequestBudget } from '../upstream/request-budget.ts';
import { RequestThreads } from '../upstream/request-threads.ts';
import type { ThreadsApi } from '../upstream/threads-upstream.ts';
import { type Caller, createAuthenticator } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { createMaskError, withCode } from './error-masking.ts';
import { GRAPHIQL_DEFAULT_QUERY } from './graphiql.ts';
import { useHttpGuards } from './http-guards.ts';
import type { IdempotentCreates } from './idempotency.ts';
import type { Logger } from './logger.ts';
import type { GatewayMetrics } from './metrics.ts';
import { operationLimitPlugins } from './operation-limits.ts';
import type { RateLimiter } from './rate-limit.ts';

export const GRAPHQL_ENDPOINT = '/graphql';

export interface YogaDeps {
  config: Config;
  schema: GraphQLSchema;
  upstream: ThreadsApi;
  health: UpstreamHealth;
  idempotentCreates: IdempotentCreates;
  rateLimiter: RateLimiter;
  logger: Logger;
  metrics: GatewayMetrics;
}

export type GatewayYoga = YogaServerInstance<Record<string, never>, GatewayContext>;

/** What a request learned on the way in, for its context and its log line. */
interface RequestState {
  requestId: string;
  caller: Caller;
  started: number;
  budget?: RequestBudget;
  operationName?: string;
  hadErrors?: boolean;
}

function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/** Media types the gateway can answer a GraphQL request with (or that accept anything). */
const ANSWERABLE =
  /(^|,)\s*(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json|text\/event-stream|multipart\/mixed)\s*(;|,|$)/i;

function acceptsAnAnswer(request: Request): boolean {
  const accept = request.headers.get('accept');
  return !accept || ANSWERABLE.test(accept);
}

/** A request refused before any GraphQL work, answered with a coded GraphQL error body. */
function refusal(
  fetchAPI: { Response: typeof Response },
  status: number,
  code: string,
  message: string,
  contentType = 'application/graphql-response+json; charset=utf-8',
): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': contentType },
  });
}

function corsFor(config: Config): (request: Request) => CORSOptions {
  const configured = config.corsOrigins;
  return (request) => {
    const origin = request.headers.get('origin');
    if (configured === '*') return { origin: '*', credentials: false };
    if (configured) return origin && configured.includes(origin) ? { origin: [origin], credentials: false } : false;
    // With the server's key behind it, no other site may call the gateway unless configured.
    return config.upstream.kind === 'server-key' ? false : { origin: '*', credentials: false };
  };
}

export function createGatewayYoga(deps: YogaDeps): {
  yoga: GatewayYoga;
  createContext: (request: Request) => GatewayContext;
} {
  const { config, logger } = deps;
  const authenticate = createAuthenticator(config);
  const states = new WeakMap<Request, RequestState>();

  const requestState = (request: Request): RequestState => {
    let state = states.get(request);
    if (!state) {
      const incoming = request.headers.get('x-request-id');
      state = {
        requestId: incoming && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID(),
        caller: authenticate(request),
        started: performance.now(),
      };
      states.set(request, state);
    }
    return state;
  };

  /** A fresh context for one request: its own budget, deadline, loaders. Never shared. */
  const createContext = (request: Request): GatewayContext => {
    const state = requestState(request);
    const budget = new RequestBudget(
      config.upstreamConcurrency,
      config.limits.upstreamCalls,
      state.caller.ok ? deps.rateLimiter.forCaller(state.caller.callerId, state.caller.perMinute) : undefined,
    );
    state.budget = budget;
    const threads = new RequestThreads(
      deps.upstream,
      {
        credential: state.caller.ok ? state.caller.credential : undefined,
        deadline: Date.now() + config.requestDeadlineMs,
        budget,
        onCall: deps.metrics.observeUpstream,
      },
      deps.health,
    );
    return {
      requestId: state.requestId,
      callerId: state.caller.ok ? state.caller.callerId : 'anonymous',
      threads,
      loaders: { thread: createThreadLoader(threads, deps.metrics.observeBatch) },
      idempotentCreates: deps.idempotentCreates,
    };
  };

  const gatewayPlugin: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== GRAPHQL_ENDPOINT || isGraphiQLPage(request) || request.method === 'OPTIONS') return;
      if (!acceptsAnAnswer(request)) {
        // Yoga's own 406 has no body; give the refusal a code like every other one.
        const message = 'Accept application/graphql-response+json or application/json.';
        endResponse(refusal(fetchAPI, 406, 'NOT_ACCEPTABLE', message, 'application/json; charset=utf-8'));
        return;
      }
      const state = requestState(request);
      if (!state.caller.ok) {
        const response = refusal(fetchAPI, 401, 'UNAUTHENTICATED', state.caller.message);
        response.headers.set('www-authenticate', 'Bearer');
        response.headers.set('x-request-id', state.requestId);
        endResponse(response);
      }
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const state = request && states.get(request);
      if (state) state.operationName = getOperationAST(args.document, args.operationName)?.name?.value;
    },
    onResultProcess({ request, result, setResult }) {
      // Yoga's own refusals (parse, validation, 405, 406) arrive without a code: give them one.
      const results = Array.isArray(result) ? result : [result];
      let changed = false;
      const coded = results.map((single) => {
        if (!('errors' in single) || !single.errors?.length) return single;
        changed = true;
        const state = states.get(request);
        if (state) state.hadErrors = true;
        return { ...single, errors: single.errors.map((error) => withCode(error as never)) };
      });
      if (changed) setResult((Array.isArray(result) ? coded : coded[0]) as never);
    },
    onResponse({ request, response }) {
      const state = states.get(request);
      if (!state) return;
      response.headers.set('x-request-id', state.requestId);
      const seconds = (performance.now() - state.started) / 1000;
      deps.metrics.observeRequest(
        state.operationName,
        response.status >= 400 || state.hadErrors ? 'error' : 'success',
        seconds,
      );
      logger.info('request', {
        requestId: state.requestId,
        method: request.method,
        status: response.status,
        operation: state.operationName ?? null,
        durationMs: Math.round(seconds * 10_000) / 10,
        upstreamCalls: state.budget?.calls ?? 0,
      });
    },
  };

  const yoga = createYoga<Record<string, never>, GatewayContext>({
    schema: deps.schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    landingPage: false,
    multipart: false,
    // http-guards.ts limits the body itself, without Yoga's per-request stream transform.
    maxRequestBodySize: false,
    batching: false,
    cors: corsFor(config),
    logging: false,
    graphiql: { title: 'Threads GraphQL gateway', defaultQuery: GRAPHIQL_DEFAULT_QUERY },
    // The offline GraphiQL bundle is ~9 MB of script (~45 MB resident): load it on first view only.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { maskError: createMaskError(logger) },
    plugins: [
      useHttpGuards({ maxBodyBytes: config.limits.bodyBytes, graphqlEndpoint: GRAPHQL_ENDPOINT }),
      gatewayPlugin,
      ...operationLimitPlugins(config.limits),
      useReadinessCheck({
        endpoint: '/ready',
        check: async ({ fetchAPI }) => {
          const verdict = await deps.health.check();
          return new fetchAPI.Response(JSON.stringify({ ready: verdict.ok, upstream: verdict.detail }), {
            status: verdict.ok ? 200 : 503,
            headers: { 'content-type': 'application/json' },
          });
        },
      }),
      deps.metrics.plugin(),
    ],
    context: ({ request }) => createContext(request),
  });
  return { yoga, createContext };
}
