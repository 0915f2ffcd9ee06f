import type { ThreadListPlan } from '../../domain/thread-list.ts';
import type { ThreadIndex, ThreadIndexPosition } from './thread-index.ts';

/** A note on an answer that succeeded, for `extensions.warnings`: what the client should know. */
export interface AnswerWarning {
  code: 'THREAD_NOT_LISTED' | 'THREAD_LIST_FULL';
  message: string;
  threadId: string;
}

/** What the list needs of a thread (the upstream's thread has these). */
export interface ListableThread {
  id: string;
  created_at: number;
  metadata?: unknown;
}

/** One entry of a page: its position, and the thread when the page was read upstream. */
export interface ListedThread<T extends ListableThread = ListableThread> extends ThreadIndexPosition {
  thread?: T;
}

export interface ListedPage<T extends ListableThread> {
  entries: ListedThread<T>[];
  /** More entries follow in the read's order. */
  more: boolean;
}

/** How a page's threads are read upstream: null for a thread that has gone, an Error for a failed read. */
export type ReadThreads<T extends ListableThread> = (
  ids: readonly string[],
) => Promise<ReadonlyArray<T | null | Error>>;

/**
 * One caller's list, bound to a request: the writes that follow an upstream write, and the pages.
 * A write to the list never fails the request (nor repeats the upstream write that came before it):
 * a failure becomes a warning on the answer.
 */
export class CallerThreads {
  constructor(
    private readonly index: ThreadIndex,
    private readonly callerId: string,
    private readonly maxEntries: number,
    private readonly warn: (warning: AnswerWarning) => void,
  ) {}

  /** After createThread or adoptThread: the thread goes on the list (or a warning says why not). */
  async listed(thread: ListableThread): Promise<void> {
    try {
      const outcome = await this.index.add(
        this.callerId,
        { threadId: thread.id, createdAt: thread.created_at, metadata: stringPairs(thread.metadata) },
        this.maxEntries,
      );
      if (outcome === 'full') {
        this.warn({
          code: 'THREAD_LIST_FULL',
          threadId: thread.id,
          message: `The thread was created, but your thread list is full (${this.maxEntries} entries): it is not on it. Forget threads to make room, then adoptThread it.`,
        });
      }
    } catch {
      this.warn({
        code: 'THREAD_NOT_LISTED',
        threadId: thread.id,
        message:
          'The thread was written, but it could not be put on your thread list: it is not on it. adoptThread puts it there; do not repeat the write.',
      });
    }
  }

  /** After updateThread: the list's copy of the metadata follows. */
  async updated(thread: ListableThread): Promise<void> {
    try {
      await this.index.updateMetadata(thread.id, stringPairs(thread.metadata));
    } catch {
      this.warn({
        code: 'THREAD_NOT_LISTED',
        threadId: thread.id,
        message:
          'The thread was updated, but the thread list could not follow: filters on its metadata may miss it until adoptThread (after forgetThread) puts it there again.',
      });
    }
  }

  /** After deleteThread: off every list. A failure only leaves an entry that is dropped when met. */
  async deleted(threadId: string): Promise<void> {
    await this.index.removeThread(threadId).catch(() => undefined);
  }

  forget(threadId: string): Promise<boolean> {
    return this.index.forget(this.callerId, threadId);
  }

  count(filter: Record<string, string>): Promise<number> {
    return this.index.count(this.callerId, filter);
  }

  /**
   * A page of the list. With `read`, each entry's thread is read upstream; a thread that has gone
   * is dropped from the list, and the page reads on so it still holds `limit` entries when more exist.
   */
  async page<T extends ListableThread>(plan: ThreadListPlan, read?: ReadThreads<T>): Promise<ListedPage<T>> {
    const entries: ListedThread<T>[] = [];
    let after = plan.after;
    for (;;) {
      const want = plan.limit - entries.length;
      const positions = await this.index.list(this.callerId, {
        metadata: plan.filter,
        order: plan.readOrder,
        limit: want + 1,
        ...(after ? { after } : {}),
      });
      const batch = positions.slice(0, want);
      const threads = read ? await read(batch.map((position) => position.threadId)) : [];
      let gone = 0;
      for (const [i, position] of batch.entries()) {
        const thread = threads[i];
        if (thread instanceof Error) throw thread;
        if (read && !thread) {
          gone += 1;
          await this.index.forget(this.callerId, position.threadId);
          continue;
        }
        entries.push(thread ? { ...position, thread } : position);
      }
      const more = positions.length > want;
      const last = batch.at(-1);
      // Entries dropped: read on past the batch for as many more, while there are more.
      if (gone === 0 || !more || !last) return { entries, more };
      after = last;
    }
  }
}

function stringPairs(metadata: unknown): Record<string, string> {
  if (!metadata || typeof metadata !== 'object') return {};
  // Defined, not assigned: a key named `__proto__` stays a key like any other.
  return Object.fromEntries(Object.entries(metadata).filter((pair) => typeof pair[1] === 'string'));
}
