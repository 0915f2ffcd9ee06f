import { deferredResponseStore } from './response-store-wrappers.ts';
import { deferredRunStore } from './run-store-wrappers.ts';
import { type Store, StoreUnavailableError } from './store.ts';

/** After a failed open, callers get "unavailable" at once for this long before the next try. */
const RETRY_AFTER_MS = 1_000;

export interface OpeningStoreOptions {
  kind: Store['kind'];
  /** Opens the real store (connect, migrate); called again after a failure, at most once a second. */
  open(): Promise<Store>;
  /** Each failed open (logged by the caller: a wrong DATA_DIR or DATABASE_URL shows at start). */
  onOpenError?(error: unknown): void;
}

/**
 * A Store usable at once whose real store opens in the background: the gateway is built
 * synchronously, and a database that is down at start (or later) makes requests answer
 * "unavailable" instead of stopping the process; the next request after it returns opens it.
 */
export function openingStore(options: OpeningStoreOptions): Store {
  let opening: Promise<Store> | undefined;
  let failedAt = 0;
  let lastError: unknown;
  let closed = false;

  function start(): Promise<Store> {
    const attempt = options.open();
    opening = attempt;
    attempt.catch((error: unknown) => {
      if (opening === attempt) opening = undefined;
      failedAt = Date.now();
      lastError = error;
      options.onOpenError?.(error);
    });
    return attempt;
  }

  async function ready(): Promise<Store> {
    if (closed) throw new StoreUnavailableError('The store is closed');
    if (!opening && Date.now() - failedAt < RETRY_AFTER_MS) {
      throw new StoreUnavailableError(`The ${options.kind} store could not be opened`, { cause: lastError });
    }
    try {
      return await (opening ?? start());
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`The ${options.kind} store could not be opened`, { cause: error });
    }
  }

  // Start now, so a bad configuration is logged at start-up rather than at the first request.
  start().catch(() => undefined);

  return {
    kind: options.kind,
    runs: deferredRunStore(async () => (await ready()).runs),
    responses: deferredResponseStore(async () => (await ready()).responses),
    createThread: async (input) => (await ready()).createThread(input),
    getThread: async (id) => (await ready()).getThread(id),
    updateThread: async (id, patch) => (await ready()).updateThread(id, patch),
    deleteThread: async (id) => (await ready()).deleteThread(id),
    createMessage: async (threadId, input) => (await ready()).createMessage(threadId, input),
    getMessage: async (threadId, id) => (await ready()).getMessage(threadId, id),
    updateMessage: async (threadId, id, metadata) => (await ready()).updateMessage(threadId, id, metadata),
    deleteMessage: async (threadId, id) => (await ready()).deleteMessage(threadId, id),
    listMessages: async (threadId, query) => (await ready()).listMessages(threadId, query),
    getIdempotency: async (key) => (await ready()).getIdempotency(key),
    putIdempotency: async (key, record) => (await ready()).putIdempotency(key, record),
    claimIdempotency: async (key, holder, untilMs) => (await ready()).claimIdempotency(key, holder, untilMs),
    releaseIdempotency: async (key, holder) => (await ready()).releaseIdempotency(key, holder),
    usedBytes: async () => (await ready()).usedBytes(),
    async close() {
      closed = true;
      const pending = opening;
      opening = undefined;
      const store = await pending?.catch(() => undefined);
      await store?.close();
    },
  };
}
