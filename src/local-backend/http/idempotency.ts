import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { type BackendAnswer, type BackendRequest, fail, json } from './answer.ts';

/**
 * A create under an `Idempotency-Key`, already scoped to the caller and the route: within the TTL
 * the same key answers what its first create answered; the same key with another request is 409.
 * Every route family goes through it.
 */
export type RememberedCreate = (
  scopedKey: string,
  fingerprint: string,
  create: () => Promise<BackendAnswer>,
) => Promise<BackendAnswer>;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * In this process, one request per key at a time: a request whose key is in flight waits for it,
 * then finds its remembered answer (or its 409), so concurrent retries never create twice. The
 * claim is taken before the first await. (Two processes on one PostgreSQL: docs/limits.md.)
 */
export function rememberedCreates(store: Store, ttlMs: number): RememberedCreate {
  const inFlight = new Map<string, Promise<void>>();
  return async (scopedKey, fingerprint, create) => {
    for (let pending = inFlight.get(scopedKey); pending; pending = inFlight.get(scopedKey)) await pending;
    let release: () => void = () => undefined;
    inFlight.set(
      scopedKey,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    try {
      const remembered = await store.getIdempotency(scopedKey);
      if (remembered) {
        if (remembered.fingerprint !== fingerprint) {
          return fail(409, {
            message: 'This Idempotency-Key was already used with a different request body.',
            code: 'idempotency_key_reused',
          });
        }
        return { ...json(200, null), body: remembered.answer };
      }
      const answer = await create();
      // A streamed answer cannot be given twice: its create is not remembered (a retry creates again).
      if (answer.status === 200 && !answer.stream) {
        await store.putIdempotency(scopedKey, { fingerprint, answer: answer.body, expiresAt: Date.now() + ttlMs });
      }
      return answer;
    } finally {
      inFlight.delete(scopedKey);
      release();
    }
  };
}

/**
 * A Threads or runs create: the key is scoped to the caller's API key and the path, the request
 * is known by its method, path and body text. Without the header it simply creates.
 */
export function idempotentByPath(
  remembered: RememberedCreate,
  call: { request: BackendRequest; apiKey: string },
  text: string,
  create: () => Promise<BackendAnswer>,
): Promise<BackendAnswer> {
  const { request, apiKey } = call;
  const key = request.header('idempotency-key');
  if (!key) return create();
  const scoped = sha256(`${apiKey}\u0000${request.path}\u0000${key}`);
  return remembered(scoped, sha256(`${request.method} ${request.path}\u0000${text}`), create);
}
