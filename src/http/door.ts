import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config/config.ts';
import type { DependencyVerdict } from '../features/redis/redis-connection.ts';
import type { UpstreamHealth } from '../upstream/detection/health.ts';
import { applyCors, type CorsPolicy, vary } from './cors.ts';
import type { GraphiQLPage } from './graphiql-page.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RequestStates } from './request-state.ts';
import { GRAPHQL_PATH, hostAllowed, hostPolicy, routeOf } from './router.ts';

/** Media types the gateway can answer a GraphQL request with (or that accept anything). */
const ANSWERABLE =
  /(^|,)\s*(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json|text\/event-stream|multipart\/mixed)\s*(;|,|$)/i;

function acceptsAnAnswer(request: Request): boolean {
  const accept = request.headers.get('accept');
  return !accept || ANSWERABLE.test(accept);
}

/** Refusals of requests that may not accept GraphQL's own media type, and the operational routes. */
export const JSON_TYPE = 'application/json; charset=utf-8';

function json(fetchAPI: { Response: typeof Response }, status: number, body: unknown): Response {
  return new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE } });
}

function methodNotAllowed(fetchAPI: { Response: typeof Response }, allow: string): Response {
  const response = refusal(fetchAPI, 405, 'METHOD_NOT_ALLOWED', `Use ${allow}.`, JSON_TYPE);
  response.headers.set('allow', allow);
  return response;
}

/** A request refused before any GraphQL work, answered with a coded GraphQL error body. */
export function refusal(
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

export interface DoorDeps {
  config: Config;
  states: RequestStates;
  cors: (request: Request) => CorsPolicy;
  graphiql: GraphiQLPage | undefined;
  health: UpstreamHealth;
  metrics: GatewayMetrics;
  /** The shared-state dependency (Redis, or in memory) for `/ready`. */
  checkSharedState: () => Promise<DependencyVerdict>;
  /** Set once shutdown begins. */
  lifecycle?: { readonly draining: boolean };
}

/**
 * The one door: runs before every other plugin of ours, decides the route with the one path test
 * (router.ts), and answers everything that is not GraphQL itself. Only requests on the GraphQL
 * route get past it, so the guards after it (host, accept, token, then content type and body size
 * in http-guards.ts) hold for every request Yoga would execute, whatever its path spelling.
 */
export function useDoor(deps: DoorDeps): Plugin {
  const hosts = hostPolicy(deps.config);
  const { cors, graphiql } = deps;
  return {
    onResponse({ request, response }) {
      applyCors(request, cors(request), response.headers);
      // With a list of origins, the answer (its Access-Control-Allow-Origin) depends on the Origin:
      // a shared cache must key on it.
      if (Array.isArray(deps.config.corsOrigins)) vary(response.headers, 'Origin');
      // Subscriptions over SSE: no proxy may hold events back to fill a buffer, or compress them
      // (`no-transform`, the standard way to say so; Yoga's `Content-Encoding: none` is no coding at all).
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
        response.headers.set('x-accel-buffering', 'no');
        response.headers.set('cache-control', 'no-cache, no-transform');
        if (response.headers.get('content-encoding') === 'none') response.headers.delete('content-encoding');
      }
    },
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!hostAllowed(hosts, request.headers.get('host'))) {
        const message = 'This Host is not served here (ALLOWED_HOSTS).';
        endResponse(refusal(fetchAPI, 421, 'MISDIRECTED_REQUEST', message, JSON_TYPE));
        return;
      }
      const route = routeOf(request.method, url.pathname, request.headers.get('accept'), graphiql !== undefined);
      // Only the GraphQL route answers a preflight: the operational routes are read, never called by pages.
      if (request.method === 'OPTIONS' && route !== 'graphql' && route !== 'not-found') {
        endResponse(methodNotAllowed(fetchAPI, 'GET'));
        return;
      }
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
      // The GraphQL route. A CORS preflight is answered here, past the Host check (its headers: onResponse).
      if (request.method === 'OPTIONS') {
        endResponse(
          new fetchAPI.Response(null, { status: 204, headers: { 'content-length': '0', allow: 'GET, POST' } }),
        );
        return;
      }
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
      const state = deps.states.of(request);
      if (!state.caller.ok) {
        const response = refusal(fetchAPI, 401, 'UNAUTHENTICATED', state.caller.message);
        response.headers.set('www-authenticate', 'Bearer');
        response.headers.set('x-request-id', state.requestId);
        endResponse(response);
      }
    },
  };
}
