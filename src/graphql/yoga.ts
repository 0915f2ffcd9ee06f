import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from '../config/config.ts';
import type { PersistedQueries } from '../features/persisted-documents/persisted-queries.ts';
import type { TrustedManifest } from '../features/persisted-documents/trusted-manifest.ts';
import type { DependencyVerdict } from '../features/redis/redis-connection.ts';
import { corsFor } from '../http/cors.ts';
import { useDirectResults } from '../http/direct-results.ts';
import { useDoor } from '../http/door.ts';
import { useEventStream } from '../http/event-stream.ts';
import { GraphiQLPage } from '../http/graphiql-page.ts';
import { useHttpGuards } from '../http/http-guards.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import type { RequestStates } from '../http/request-state.ts';
import { GRAPHQL_PATH } from '../http/router.ts';
import type { Logger } from '../logger.ts';
import type { UpstreamHealth } from '../upstream/detection/health.ts';
import { useAnswerWarnings } from './answer-warnings.ts';
import type { GatewayContext } from './context.ts';
import { createMaskError } from './error-masking.ts';
import { useInputBounds } from './input-bounds.ts';
import { operationLimitPlugins } from './operation-limits.ts';
import { usePersistedDocuments } from './persisted-documents.ts';
import { useRequestLog } from './request-log.ts';
import { useResponseSize } from './response-size.ts';
import { useSharedEventResults } from './shared-event-results.ts';

export interface YogaDeps {
  config: Config;
  schema: GraphQLSchema;
  states: RequestStates;
  /** Makes each request's context (graphql/context.ts); Yoga calls it once per request. */
  createContext: (request: Request) => GatewayContext;
  health: UpstreamHealth;
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

/**
 * Yoga's own health check has no off switch, runs before every plugin of ours, and answers any URL
 * that merely ends in its endpoint (`/a/b/health`, `/graphql?x=/health`), whatever the method or
 * Host, with an empty 200: the router's Host check and its own `/health` would never run. Given an
 * endpoint with a NUL in it, it never answers: Node's HTTP parser refuses a NUL in a request target
 * and in a Host, and the URL parser percent-encodes one. `/health` is the router's alone.
 */
const NO_URL_ENDS_SO = '\u0000/health';

/** The Yoga instance: the door, the guards, the limits and the error masking, in that order. */
export function createGatewayYoga(deps: YogaDeps): GatewayYoga {
  const { config, logger } = deps;
  const cors = corsFor(config);
  const graphiql = config.graphiql ? new GraphiQLPage() : undefined;
  return createYoga<Record<string, never>, GatewayContext>({
    schema: deps.schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: NO_URL_ENDS_SO,
    landingPage: false,
    multipart: false,
    // http-guards.ts limits the body itself, without Yoga's per-request stream transform.
    maxRequestBodySize: false,
    batching: false,
    // The door answers preflights (after its Host check) and sets every answer's CORS headers.
    cors: false,
    logging: false,
    // The door serves GraphiQL itself (compressed, cached), so Yoga's own never answers.
    graphiql: false,
    maskedErrors: { maskError: createMaskError(logger) },
    plugins: [
      useDoor({ ...deps, cors, graphiql }),
      useHttpGuards({ maxBodyBytes: config.limits.bodyBytes }),
      useRequestLog(deps.states, deps.metrics, logger),
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
      useAnswerWarnings(),
      // Each event executed once for all the subscriptions that would execute it alike.
      useSharedEventResults(deps.metrics.observeEventResult),
      // Last: it measures and writes the answer as it will be sent, codes and all.
      useResponseSize(config.limits.responseBytes, {
        inFlightBytes: config.limits.answerBytesInFlight,
        stallMs: config.limits.answerStallMs,
      }),
      // A subscription's events written as an event stream, or refused when the client takes none.
      useEventStream({ pingMs: config.live.pingMs }),
      // After every choice of how to write the answer: the WebSocket's operations take the result itself.
      useDirectResults(),
    ],
    context: ({ request }) => deps.createContext(request),
  });
}
