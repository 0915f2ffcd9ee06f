import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdempotencyRecord, Store } from '../store/store.ts';
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

/** How long a claim holds unless renewed (a holder that died lets the key go then), and how often its holder renews it. */
const CLAIM_MS = 15_000;
const RENEW_MS = 5_000;
/** A request whose key another process is creating under looks again after this, doubling up to the most. */
const FIRST_LOOK_MS = 20;
const MOST_LOOK_MS = 250;

function rememberedAnswer(remembered: IdempotencyRecord, fingerprint: string): BackendAnswer {
  if (remembered.fingerprint !== fingerprint) {
    return fail(409, {
      message: 'This Idempotency-Key was already used with a different request body.',
      code: 'idempotency_key_reused',
    });
  }
  return { ...json(200, null), body: remembered.answer };
}

/**
 * One create per key. In this process, one request per key at a time: a request whose key is in
 * flight waits for it, then finds its remembered answer (or its 409); the claim is taken before the
 * first await. Across processes that share a store (PostgreSQL), the request then claims the key in
 * the store: while another process holds it, the request waits for that create's answer, looking
 * again with a growing pause; a holder renews its claim while it creates, and a claim that was not
 * renewed lapses (its process died), so the key is never held for ever.
 */
export function rememberedCreates(store: Store, ttlMs: number): RememberedCreate {
  const inFlight = new Map<string, Promise<void>>();
  const holder = randomUUID();
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
      for (let pause = FIRST_LOOK_MS; ; pause = Math.min(pause * 2, MOST_LOOK_MS)) {
        const remembered = await store.getIdempotency(scopedKey);
        if (remembered) return rememberedAnswer(remembered, fingerprint);
        if (await store.claimIdempotency(scopedKey, holder, Date.now() + CLAIM_MS)) break;
        await sleep(pause);
      }
      const renew = setInterval(() => {
        store.claimIdempotency(scopedKey, holder, Date.now() + CLAIM_MS).catch(() => undefined);
      }, RENEW_MS);
      renew.unref();
      try {
        const answer = await create();
        // A streamed answer cannot be given twice: its create is not remembered (a retry creates again).
        if (answer.status === 200 && !answer.stream) {
          await store.putIdempotency(scopedKey, { fingerprint, answer: answer.body, expiresAt: Date.now() + ttlMs });
        }
        return answer;
      } finally {
        clearInterval(renew);
        await store.releaseIdempotency(scopedKey, holder).catch(() => undefined);
      }
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
