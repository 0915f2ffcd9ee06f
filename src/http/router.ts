import type { Config } from '../config/config.ts';
import { isLoopbackHost } from '../config/config.ts';

/** The one path GraphQL is served on. Nothing else executes GraphQL: not `/graphql/`, not `/x/graphql`. */
export const GRAPHQL_PATH = '/graphql';

/**
 * What a request is, decided once, by the one path test the gateway has. Yoga's own endpoint
 * matching is looser (it accepts any URL that ends in `/graphql`, a trailing slash, and a URL
 * pattern), so every request that is not exactly one of these routes is answered 404 before Yoga
 * routes it, and every guard after the router can rely on the route instead of testing paths again.
 */
export type Route = 'graphql' | 'graphiql' | 'health' | 'ready' | 'metrics' | 'not-found';

export function routeOf(method: string, pathname: string, accept: string | null, graphiql: boolean): Route {
  switch (pathname) {
    case GRAPHQL_PATH:
      // The same test as Yoga's own GraphiQL check, so the page never runs an operation.
      return graphiql && method === 'GET' && (accept ?? '').includes('text/html') ? 'graphiql' : 'graphql';
    case '/health':
      return 'health';
    case '/ready':
      return 'ready';
    case '/metrics':
      return 'metrics';
    default:
      return 'not-found';
  }
}

/** Host names (lower case, without port) and `host:port` pairs the gateway answers to. */
export interface HostPolicy {
  /** undefined: any Host is served. */
  readonly allowed: ReadonlySet<string> | undefined;
}

/**
 * DNS rebinding: a page on another site can point its own name at 127.0.0.1 and then call the
 * gateway as a same-origin request, past CORS. The browser still sends that name in `Host`, so only
 * listed names are served: ALLOWED_HOSTS; by default, when bound to loopback, the bound host and
 * `localhost` (and the loopback literals); any Host once gateway tokens guard the gateway.
 */
export function hostPolicy(config: Config): HostPolicy {
  if (config.allowedHosts.length > 0) return { allowed: new Set(config.allowedHosts.map((h) => h.toLowerCase())) };
  if (config.gatewayTokens.length > 0 || !isLoopbackHost(config.host)) return { allowed: undefined };
  const bound = config.host.toLowerCase();
  return { allowed: new Set([bound, bound.includes(':') ? `[${bound}]` : bound, 'localhost', '127.0.0.1', '[::1]']) };
}

/** A request without `Host` comes from in-process embedding (`yoga.fetch`); browsers always send one. */
export function hostAllowed(policy: HostPolicy, host: string | null): boolean {
  if (!policy.allowed || host === null) return true;
  const value = host.trim().toLowerCase();
  if (policy.allowed.has(value)) return true;
  const name = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.replace(/:\d+$/, '');
  return policy.allowed.has(name);
}
