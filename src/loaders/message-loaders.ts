import DataLoader from 'dataloader';
import { toError } from '../errors.ts';
import type { RequestUpstream } from '../upstream/request-scoped-api.ts';
import type { MessageListParams, MessagePage, UpstreamMessage } from '../upstream/upstream-api.ts';

interface PageKey {
  threadId: string;
  params: MessageListParams;
}

interface MessageKey {
  threadId: string;
  id: string;
}

/**
 * The message reads of one GraphQL request. Pages are keyed by thread and the full upstream read
 * (limit, order, cursor), so the same connection asked twice costs one list call; messages by
 * (thread, id), answered first from the pages that carried them (kept per thread, so priming a
 * page costs one map entry per message, not a cache key each). A write forgets everything of its
 * thread.
 */
export class MessageLoaders {
  readonly #pages: DataLoader<PageKey, MessagePage | null, string>;
  readonly #messages: DataLoader<MessageKey, UpstreamMessage | null, string>;
  /** Keys loaded per thread, so a write can forget exactly that thread's reads. */
  readonly #pageKeys = new Map<string, Set<string>>();
  readonly #messageKeys = new Map<string, Set<string>>();
  /** Messages the request's pages (and writes) carried, by thread and id; the first page to carry one wins. */
  readonly #known = new Map<string, Map<string, UpstreamMessage | null>>();

  constructor(upstream: RequestUpstream) {
    this.#pages = new DataLoader<PageKey, MessagePage | null, string>(
      (keys) =>
        Promise.all(
          keys.map(async ({ threadId, params }) => {
            try {
              const page = await upstream.listMessages(threadId, params);
              for (const message of page?.data ?? []) this.#prime(message);
              return page;
            } catch (error) {
              return toError(error);
            }
          }),
        ),
      { name: 'messagePage', cacheKeyFn: pageCacheKey },
    );
    this.#messages = new DataLoader<MessageKey, UpstreamMessage | null, string>(
      (keys) =>
        Promise.all(
          keys.map(({ threadId, id }) =>
            upstream.retrieveMessage(threadId, id).catch((error: unknown) => toError(error)),
          ),
        ),
      { name: 'message', cacheKeyFn: messageCacheKey },
    );
  }

  /** One page of a thread's messages; null when the thread does not exist. */
  page(threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    const key = { threadId, params };
    this.#remember(this.#pageKeys, threadId, pageCacheKey(key));
    return this.#pages.load(key);
  }

  message(threadId: string, id: string): Promise<UpstreamMessage | null> {
    const known = this.#known.get(threadId);
    if (known?.has(id)) return Promise.resolve(known.get(id) ?? null);
    const key = { threadId, id };
    this.#remember(this.#messageKeys, threadId, messageCacheKey(key));
    return this.#messages.load(key);
  }

  /** After a write to a thread: its pages and messages are read again, never served stale. */
  forgetThread(threadId: string): void {
    for (const key of this.#pageKeys.get(threadId) ?? []) this.#pages.clear(JSON.parse(key) as PageKey);
    for (const key of this.#messageKeys.get(threadId) ?? []) this.#messages.clear(JSON.parse(key) as MessageKey);
    this.#pageKeys.delete(threadId);
    this.#messageKeys.delete(threadId);
    this.#known.delete(threadId);
  }

  /** The answer of a write, so later reads of that message in the request need no call. */
  primeWritten(threadId: string, id: string, message: UpstreamMessage | null): void {
    this.#messages.clear({ threadId, id });
    this.#knownIn(threadId).set(id, message);
  }

  #prime(message: UpstreamMessage): void {
    const known = this.#knownIn(message.thread_id);
    if (!known.has(message.id)) known.set(message.id, message);
  }

  #knownIn(threadId: string): Map<string, UpstreamMessage | null> {
    let known = this.#known.get(threadId);
    if (!known) {
      known = new Map();
      this.#known.set(threadId, known);
    }
    return known;
  }

  #remember(keys: Map<string, Set<string>>, threadId: string, key: string): void {
    let set = keys.get(threadId);
    if (!set) {
      set = new Set();
      keys.set(threadId, set);
    }
    set.add(key);
  }
}

function pageCacheKey({ threadId, params }: PageKey): string {
  return JSON.stringify({
    threadId,
    params: { limit: params.limit, order: params.order, after: params.after ?? null, run_id: params.run_id ?? null },
  });
}

function messageCacheKey({ threadId, id }: MessageKey): string {
  return JSON.stringify({ threadId, id });
}

export function createMessageLoaders(upstream: RequestUpstream): MessageLoaders {
  return new MessageLoaders(upstream);
}
