import { THREAD_ID_PATTERN } from './thread-rules.ts';

/**
 * `Thread.messages` pagination, as pure rules: which one upstream list call a connection's
 * arguments mean, and the cursors. Both adapters list forward only (`limit`, `order`, `after`), so
 * a backward page is a forward list in the opposite order, reversed.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export type MessageOrder = 'asc' | 'desc';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  order?: MessageOrder | null;
}

/** The one forward list call a connection makes, and how to read its answer. */
export interface PagePlan {
  list: { limit: number; order: MessageOrder; after?: string };
  /** Backward: the answer comes newest-to-cursor first and is reversed into `order`. */
  backward: boolean;
}

export interface PaginationProblem {
  argument: string;
  message: string;
}

const CURSOR_PREFIX = 'msg:';

/**
 * An opaque cursor for a message: stable for the message, whatever page it was read on. It names
 * the thread too, so a cursor handed out for one thread's connection is refused on another's
 * before any call, whatever the upstream would make of it.
 */
export function messageCursor(threadId: string, messageId: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${threadId}/${messageId}`).toString('base64url');
}

/** The message id a cursor names, or undefined when it is not one we handed out for this thread. */
export function cursorMessageId(cursor: string, threadId: string): string | undefined {
  // Two ids of at most 128 characters and the prefix, in base64url.
  if (!/^[A-Za-z0-9_-]{1,360}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${CURSOR_PREFIX}${threadId}/`;
  if (!text.startsWith(prefix)) return undefined;
  const id = text.slice(prefix.length);
  // Round-trip, so only the one spelling we hand out is accepted.
  return THREAD_ID_PATTERN.test(id) && messageCursor(threadId, id) === cursor ? id : undefined;
}

function checkCount(value: number, argument: string): PaginationProblem | null {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    return { argument, message: `${argument}: must be from 1 to ${MAX_PAGE_SIZE}, got ${value}` };
  }
  return null;
}

/**
 * The plan for a connection of thread `threadId`, or the problem with its arguments: `first` with
 * `after` pages forward, `last` with `before` backward; mixing the two directions, a count outside
 * 1 to 100, or a cursor that is not one of ours for this thread is refused.
 */
export function planPage(args: ConnectionArgs, threadId: string): PagePlan | PaginationProblem {
  const order = args.order ?? 'desc';
  const { first, last, after, before } = args;
  if (first != null && last != null) {
    return { argument: 'first', message: 'first and last: give one of them, not both' };
  }
  const backward = last != null || before != null;
  if (backward && (first != null || after != null)) {
    return {
      argument: first != null ? 'first' : 'after',
      message: 'first and after page forward, last and before page backward: do not mix them',
    };
  }
  const count = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const countProblem = checkCount(count, backward ? 'last' : 'first');
  if (countProblem) return countProblem;
  const cursor = backward ? before : after;
  const list: PagePlan['list'] = {
    limit: count,
    order: backward ? (order === 'asc' ? 'desc' : 'asc') : order,
  };
  if (cursor != null) {
    const id = cursorMessageId(cursor, threadId);
    const argument = backward ? 'before' : 'after';
    if (id === undefined) {
      return { argument, message: `${argument}: not a cursor this thread's connection handed out` };
    }
    list.after = id;
  }
  return { list, backward };
}
