import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/config.ts';

/** Who a request is, once its Authorization header has been checked. */
export type Caller =
  | {
      ok: true;
      callerId: string;
      /** The caller's own upstream key (pass-through mode only). */
      credential?: string;
      /** Upstream calls per minute for this caller (its token's own limit, else RATE_LIMIT_PER_MINUTE). */
      perMinute?: number;
    }
  | { ok: false; message: string };

function bearer(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 32);
}

function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/**
 * Pass-through: the bearer is the caller's own upstream key and is required. With a server key and
 * GATEWAY_TOKENS: the bearer must be one of the tokens (and never goes upstream). Otherwise open.
 */
export function createAuthenticator(config: Config): (request: Request) => Caller {
  const check = createAuthorizationCheck(config);
  return (request) => check(request.headers.get('authorization'));
}

/** The same rules, for an `Authorization` value given as it is (a WebSocket's `connection_init`). */
export function createAuthorizationCheck(config: Config): (authorization: string | null | undefined) => Caller {
  const tokens = config.gatewayTokens;
  const guarded = config.upstream.kind !== 'pass-through' && tokens.length > 0;
  const perMinute = config.rateLimitPerMinute === undefined ? {} : { perMinute: config.rateLimitPerMinute };
  return (authorization) => {
    const presented = bearer(authorization);
    if (config.upstream.kind === 'pass-through') {
      if (!presented) return { ok: false, message: 'Send your Threads API key as Authorization: Bearer <key>.' };
      return { ok: true, callerId: `key:${fingerprint(presented)}`, credential: presented, ...perMinute };
    }
    if (!guarded) return { ok: true, callerId: 'anonymous', ...perMinute };
    // Every token is compared, so the time taken does not tell which one matched.
    let matched: string | undefined;
    for (const token of tokens) if (presented && sameSecret(token, presented)) matched = token;
    if (matched !== undefined) {
      const own = config.gatewayTokenLimits[matched];
      return {
        ok: true,
        callerId: `token:${fingerprint(matched)}`,
        ...(own === undefined ? perMinute : { perMinute: own }),
      };
    }
    return { ok: false, message: 'Send a gateway token as Authorization: Bearer <token>.' };
  };
}
