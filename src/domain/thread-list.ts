import { createHash } from 'node:crypto';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type MessageOrder } from './message-pagination.ts';
import { checkMetadata, THREAD_ID_PATTERN } from './thread-rules.ts';

/**
 * `Viewer.threads` paging, as pure rules: the arguments' plan, the metadata filter, and cursors
 * bound to the caller and the filter (a cursor handed out to one caller, or for one filter, is
 * refused for another before any read).
 */

export interface ThreadListArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  order?: MessageOrder | null;
  metadata?: unknown;
}

export interface ThreadListPlan {
  limit: number;
  /** The order of the read: the connection's, or the opposite for a backward page (then reversed). */
  readOrder: MessageOrder;
  backward: boolean;
  filter: Record<string, string>;
  /** What cursors of this list are bound to: the caller and the filter. */
  binding: string;
  after?: { createdAt: number; threadId: string };
}

export interface ThreadListProblem {
  argument: string;
  message: string;
}

const CURSOR_PREFIX = 'tl1';

/** The caller and the filter, as one short tag. Keys in order, so `{a, b}` and `{b, a}` are one filter. */
export function listBinding(callerId: string, filter: Record<string, string>): string {
  const canonical = JSON.stringify(
    Object.keys(filter)
      .sort()
      .map((key) => [key, filter[key]]),
  );
  return createHash('sha256').update(`${callerId}\u0000${canonical}`).digest('base64url').slice(0, 22);
}

export function threadListCursor(binding: string, createdAt: number, threadId: string): string {
  return Buffer.from(`${CURSOR_PREFIX}:${binding}:${createdAt}:${threadId}`).toString('base64url');
}

function decodeCursor(cursor: string, binding: string): { createdAt: number; threadId: string } | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  const match = /^tl1:([A-Za-z0-9_-]{22}):(\d{1,15}):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || match[1] !== binding || !THREAD_ID_PATTERN.test(match[3] ?? '')) return undefined;
  const position = { createdAt: Number(match[2]), threadId: match[3] ?? '' };
  // Round-trip, so only the one spelling we hand out is accepted.
  return threadListCursor(binding, position.createdAt, position.threadId) === cursor ? position : undefined;
}

function checkCount(value: number, argument: string): ThreadListProblem | null {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    return { argument, message: `${argument}: must be from 1 to ${MAX_PAGE_SIZE}, got ${value}` };
  }
  return null;
}

/** The plan for one page of `callerId`'s list, or the problem with the arguments. */
export function planThreadList(args: ThreadListArgs, callerId: string): ThreadListPlan | ThreadListProblem {
  const { first, last, after, before } = args;
  if (first != null && last != null)
    return { argument: 'first', message: 'first and last: give one of them, not both' };
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
  let filter: Record<string, string> = {};
  if (args.metadata != null) {
    const problem = checkMetadata(args.metadata, 'metadata');
    if (problem) return { argument: 'metadata', message: problem.message };
    filter = args.metadata as Record<string, string>;
  }
  const binding = listBinding(callerId, filter);
  const order = args.order ?? 'desc';
  const plan: ThreadListPlan = {
    limit: count,
    readOrder: backward ? (order === 'desc' ? 'asc' : 'desc') : order,
    backward,
    filter,
    binding,
  };
  const cursor = backward ? before : after;
  if (cursor != null) {
    const position = decodeCursor(cursor, binding);
    const argument = backward ? 'before' : 'after';
    if (!position) return { argument, message: `${argument}: not a cursor of this list (this caller, this filter)` };
    plan.after = position;
  }
  return plan;
}
