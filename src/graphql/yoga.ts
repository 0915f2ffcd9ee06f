import { randomUUID } from 'node:crypto';
import { type GraphQLSchema, getOperationAST } from 'graphql';
import { type CORSOptions, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from '../config/config.ts';
import type { IdempotentCreates } from '../features/idempotency/idempotent-creates.ts';
import type { PersistedQueries } from '../features/persisted-documents/persisted-queries.ts';
import type { TrustedManifest } from '../features/persisted-documents/trusted-manifest.ts';
import type { RateLimiter } from '../features/rate-limit/rate-limiter.ts';
import type { DependencyVerdict } from '../features/redis/redis-connection.ts';
import { type Caller, createAuthenticator } from '../http/auth.ts';
import { GraphiQLPage } from '../http/graphiql-page.ts';
import { useHttpGuards } from '../http/http-guards.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import { GRAPHQL_PATH, hostAllowed, hostPolicy, routeOf } from '../http/router.ts';
import { createMessageLoaders, type MessageLoaders } from '../loaders/message-loaders.ts';
import { createThreadLoader } from '../loaders/thread-loader.ts';
import type { Logger } from '../logger.ts';
import { RequestBudget } from '../upstream/calls/request-budget.ts';
import type { UpstreamHealth } from '../upstream/detection/health.ts';
import { RequestUpstream } from '../upstream/request-scoped-api.ts';
import type { UpstreamApi } from '../upstream/upstream-api.ts';
import type { GatewayContext } from './context.ts';
import { createMaskError, withCode } from './error-masking.ts';
import { useInputBounds } from './input-bounds.ts';
import { operationLimitPlugins } from './operation-limits.ts';
import { usePersistedDocuments } from './persisted-documents.ts';
import { useResponseSize } from './response-size.ts';

export interface YogaDeps {
  config: Config;
  schema: GraphQLSchema;
  upstream: UpstreamApi;
  health: UpstreamHealth;
  idempotentCreates: IdempotentCreates;
  rateLimiter: RateLimiter;
  /** The APQ registry (undefined: APQ off). */
  persistedQueries?: PersistedQueries | undefined;
  /** TRUSTED_DOCUMENTS, loaded: only these documents execute. */
  trustedDocuments?: TrustedManifest | undefined;
  /** The shared-state dependency (Redis, or in memory) for `/ready`. */
  checkSharedState: () => Promise<DependencyVerdict>;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Set once shutdown begins. */
  lifecycle?: { readonly draining: boolean };
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

/** Media types the gateway can answer a GraphQL request with (or that accept anything). */
const ANSWERABLE =
  /(^|,)\s*(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json|text\/event-stream|multipart\/mixed)\s*(;|,|$)/i;

function acceptsAnAnswer(request: Request): boolean {
  const accept = request.headers.get('accept');
  return !accept || ANSWERABLE.test(accept);
}

/** Refusals of requests that may not accept GraphQL's own media type, and the operational routes. */
const JSON_TYPE = 'application/json; charset=utf-8';

function json(fetchAPI: { Response: typeof Response }, status: number, body: unknown): Response {
  return new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE } });
}

function methodNotAllowed(fetchAPI: { Response: typeof Response }, allow: string): Response {
  const response = refusal(fetchAPI, 405, 'METHOD_NOT_ALLOWED', `Use ${allow}.`, JSON_TYPE);
  response.headers.set('allow', allow);
  return response;
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

/**
 * Yoga's own health check has no off switch, runs before every plugin of ours, and answers any URL
 * that merely ends in its endpoint (`/a/b/health`, `/graphql?x=/health`), whatever the method or
 * Host, with an empty 200: the router's Host check and its own `/health` would never run. Given an
 * endpoint with a NUL in it, it never answers: Node's HTTP parser refuses a NUL in a request target
 * and in a Host, and the URL parser percent-encodes one. `/health` is the router's alone.
 */
const NO_URL_ENDS_SO = '\u0000/health';

export function createGatewayYoga(deps: YogaDeps): {
  yoga: GatewayYoga;
  createContext: (request: Request) => GatewayContext;
} {
  const { config, logger } = deps;
  const authenticate = createAuthenticator(config);
  const states = new WeakMap<Request, RequestState>();
  const hosts = hostPolicy(config);
  const cors = corsFor(config);
  const graphiql = config.graphiql ? new GraphiQLPage() : undefined;

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
    const upstream = new RequestUpstream(
      deps.upstream,
      {
        credential: state.caller.ok ? state.caller.credential : undefined,
        deadline: Date.now() + config.requestDeadlineMs,
        budget,
        onCall: deps.metrics.observeUpstream,
      },
      deps.health,
    );
    // Message loaders only for requests that read messages: most never do, and every object made
    // here lives as long as the request (500 ms and more against a hosted API).
    let messages: MessageLoaders | undefined;
    return {
      requestId: state.requestId,
      callerId: state.caller.ok ? state.caller.callerId : 'anonymous',
      upstream,
      loaders: {
        thread: createThreadLoader(upstream, deps.metrics.observeBatch),
        get messages() {
          messages ??= createMessageLoaders(upstream);
          return messages;
        },
      },
      idempotentCreates: deps.idempotentCreates,
    };
  };

  /**
   * The one door: runs before every other plugin of ours, decides the route with the one path test
   * (router.ts), and answers everything that is not GraphQL itself. Only requests on the GraphQL
   * route get past it, so the guards after it (host, accept, token, then content type and body size
   * in http-guards.ts) hold for every request Yoga would execute, whatever its path spelling.
   */
  const router: Plugin = {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!hostAllowed(hosts, request.headers.get('host'))) {
        const message = 'This Host is not served here (ALLOWED_HOSTS).';
        endResponse(refusal(fetchAPI, 421, 'MISDIRECTED_REQUEST', message, JSON_TYPE));
        return;
      }
      const route = routeOf(request.method, url.pathname, request.headers.get('accept'), graphiql !== undefined);
      switch (route) {
        case 'not-found':
          endResponse(
            refusal(fetchAPI, 404, 'NOT_FOUND', `Not found. GraphQL is served at ${GRAPHQL_PATH}.`, JSON_TYPE),
          );
          return;
        case 'health':
          endResponse(json(fetchAPI, 200, { ok: true }));
          return;
        case 'ready': {
          if (deps.lifecycle?.draining) {
            endResponse(json(fetchAPI, 503, { ready: false, reason: 'shutting down' }));
            return;
          }
          const [verdict, shared] = await Promise.all([deps.health.check(), deps.checkSharedState()]);
          // Redis down costs only keyed creates (refused with a coded error): the instance stays in
          // rotation, and the body names the dependency that is down.
          endResponse(
            json(fetchAPI, verdict.ok ? 200 : 503, {
              ready: verdict.ok,
              api: deps.health.apiKind ?? null,
              upstream: verdict.detail,
              sharedState: shared.detail,
              dependenciesDown: shared.ok ? [] : ['redis'],
            }),
          );
          return;
        }
        case 'metrics':
          if (request.method !== 'GET') {
            endResponse(methodNotAllowed(fetchAPI, 'GET'));
            return;
          }
          endResponse(await deps.metrics.respond(fetchAPI));
          return;
        case 'graphiql':
          endResponse(await (graphiql as GraphiQLPage).respond(request, fetchAPI));
          return;
        case 'graphql':
          break;
      }
      // The GraphQL route. A CORS preflight was answered by Yoga's CORS plugin before this point.
      if (request.method !== 'GET' && request.method !== 'POST') {
        endResponse(methodNotAllowed(fetchAPI, 'GET, POST'));
        return;
      }
      if (!acceptsAnAnswer(request)) {
        // Yoga's own 406 has no body; give the refusal a code like every other one.
        const message = 'Accept application/graphql-response+json or application/json.';
        endResponse(refusal(fetchAPI, 406, 'NOT_ACCEPTABLE', message, JSON_TYPE));
        return;
      }
      // A cross-site GET query is a simple request (an <img> or a link can send it, no preflight):
      // the page cannot read the answer, but the gateway would still spend its key's calls on it.
      // Browsers mark such requests; one from an origin CORS would refuse is refused here too.
      if (request.headers.get('sec-fetch-site') === 'cross-site' && cors(request) === false) {
        const message = 'Cross-site requests are not served here (CORS_ORIGINS).';
        endResponse(refusal(fetchAPI, 403, 'FORBIDDEN', message, JSON_TYPE));
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
  };

  const gatewayPlugin: Plugin = {
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
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: NO_URL_ENDS_SO,
    landingPage: false,
    multipart: false,
    // http-guards.ts limits the body itself, without Yoga's per-request stream transform.
    maxRequestBodySize: false,
    batching: false,
    cors,
    logging: false,
    // The router serves GraphiQL itself (compressed, cached), so Yoga's own never answers.
    graphiql: false,
    maskedErrors: { maskError: createMaskError(logger) },
    plugins: [
      router,
      useHttpGuards({ maxBodyBytes: config.limits.bodyBytes }),
      gatewayPlugin,
      // Documents by hash, and TRUSTED_DOCUMENTS: before anything parses the document.
      usePersistedDocuments({
        trusted: deps.trustedDocuments,
        registry: deps.persistedQueries,
        allowIntrospection: config.allowIntrospection,
        maxTokens: config.limits.tokens,
      }),
      // Before the budget estimate: it walks variables, and must only ever see bounded ones.
      useInputBounds({ maxDepth: config.limits.jsonDepth, maxWriteBytes: config.limits.bodyBytes }),
      ...operationLimitPlugins(config.limits),
      // Last: it measures and writes the answer as it will be sent, codes and all.
      useResponseSize(config.limits.responseBytes),
    ],
    context: ({ request }) => createContext(request),
  });
  return { yoga, createContext };
}
