import type { Config } from '../config/config.ts';

/**
 * CORS: which other origins' pages may call the gateway (docs/hardening.md). The door answers a
 * preflight itself, after its Host and route checks like any request (so a preflight to another
 * path or from a Host that is not served gets the same refusal as a POST would), and every answer
 * then carries the headers the policy gives the request's Origin.
 */

/** An origin's answer: none (`false`), any origin (the request's is echoed), or that one origin. */
export type CorsPolicy = false | { readonly origin: '*' | string };

/** How long a browser may keep a preflight's answer (it asks again for each new method or header). */
const PREFLIGHT_MAX_AGE_S = 600;

export function corsFor(config: Config): (request: Request) => CorsPolicy {
  const configured = config.corsOrigins;
  return (request) => {
    const origin = request.headers.get('origin');
    if (configured === '*') return { origin: '*' };
    if (configured) return origin && configured.includes(origin) ? { origin } : false;
    // Only where each caller brings its own key may any site call the gateway unconfigured: with the
    // server's key, or the local backend (its threads, its model), a page on another site the user
    // visits would spend and read them.
    return config.upstream.kind === 'pass-through' ? { origin: '*' } : false;
  };
}

/** Adds `name` to the answer's `Vary` unless it is there. */
export function vary(headers: Headers, name: string): void {
  const current = headers.get('vary');
  if (current && new RegExp(`(^|,)\\s*${name}\\s*(,|$)`, 'i').test(current)) return;
  headers.append('vary', name);
}

/**
 * Sets the CORS headers of `request`'s answer: none without an Origin or for an origin the policy
 * refuses; otherwise the origin allowed (an echoed one varies by Origin), never credentials, and on
 * a preflight the GraphQL route's methods, the headers the page asked for, and how long to keep it.
 */
export function applyCors(request: Request, policy: CorsPolicy, headers: Headers): void {
  if (policy === false) return;
  // An echoed origin makes every answer depend on the Origin, those without one too: a shared cache
  // must not hand an answer made for no origin to a page of another.
  if (policy.origin === '*') vary(headers, 'Origin');
  const origin = request.headers.get('origin');
  if (origin === null) return;
  if (policy.origin === '*') {
    headers.set('access-control-allow-origin', origin);
  } else {
    headers.set('access-control-allow-origin', policy.origin);
  }
  if (request.method !== 'OPTIONS') return;
  headers.set('access-control-allow-methods', 'GET, POST');
  const asked = request.headers.get('access-control-request-headers');
  if (asked) {
    headers.set('access-control-allow-headers', asked);
    vary(headers, 'Access-Control-Request-Headers');
  }
  headers.set('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
}
