import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.ts';

/** Who a request is, once its Authorization header has been checked. */
export type Caller =
  | { ok: true; callerId: string /** the caller's own upstream key (pass-through mode only) */; credential?: string }
  | { ok: false; message: string };

function bearer(request: Request): string | undefined {
  const header = request.headers.get('authorization');
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
  const tokens = config.gatewayTokens;
  const guarded = config.upstream.kind !== 'pass-through' && tokens.length > 0;
  return (request) => {
    const presented = bearer(request);
    if (config.upstream.kind === 'pass-through') {
      if (!presented) return { ok: false, message: 'Send your Threads API key as Authorization: Bearer <key>.' };
      return { ok: true, callerId: `key:${fingerprint(presented)}`, credential: presented };
    }
    if (!guarded) return { ok: true, callerId: 'anonymous' };
    if (presented && tokens.some((token) => sameSecret(token, presented))) {
      return { ok: true, callerId: `token:${fingerprint(presented)}` };
    }
    return { ok: false, message: 'Send a gateway token as Authorization: Bearer <token>.' };
  };
}
