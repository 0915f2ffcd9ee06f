import { checkMetadata, checkThreadId, checkToolResources, MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { badUserInput } from '../errors.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { Thread, ThreadCreateParams, ThreadUpdateParams } from '../upstream/upstream-api.ts';
import { refuse, type ThreadMessageInputShape, toNewMessage } from './thread-message-input.ts';

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface CreateThreadInputShape {
  messages?: ThreadMessageInputShape[] | null;
  toolResources?: unknown;
  metadata?: unknown;
  idempotencyKey?: string | null;
}

export interface UpdateThreadInputShape {
  metadata?: unknown;
  toolResources?: unknown;
}

/** Thread and message ids, by the one id rule. */
export function assertThreadId(id: string, argument: string): void {
  refuse(checkThreadId(id, argument));
}

export function assertThreadIds(ids: readonly string[], argument: string): void {
  if (ids.length > MAX_IDS_PER_FIELD) {
    throw badUserInput(`${argument}: at most ${MAX_IDS_PER_FIELD} ids per call, got ${ids.length}`, argument);
  }
  for (const [index, id] of ids.entries()) refuse(checkThreadId(id, `${argument}[${index}]`));
}

/** One thread by id through the request's loader, after checking the id: `thread` and `node`. */
export function loadThread(ctx: GatewayContext, id: string | number): Promise<Thread | null> {
  assertThreadId(String(id), 'id');
  return ctx.loaders.thread.load(String(id));
}

/**
 * Threads by id through the request's loader, one entry per id, in order: `threads` and `nodes`.
 * An entry that failed upstream is an Error, which graphql-js turns into null plus that entry's
 * own error at its path.
 */
export function loadThreads(ctx: GatewayContext, ids: ReadonlyArray<string | number>): Promise<Array<Thread | null>> {
  const wanted = ids.map(String);
  assertThreadIds(wanted, 'ids');
  return ctx.loaders.thread.loadMany(wanted) as Promise<Array<Thread | null>>;
}

/** Validates createThread's input and maps it to the API's wire format. */
export function toCreateParams(input: CreateThreadInputShape | null | undefined): ThreadCreateParams {
  const params: ThreadCreateParams = {};
  if (!input) return params;
  if (input.messages != null) {
    // The adapter refuses roles its API does not take; the wire shape is the Threads API's.
    params.messages = input.messages.map(
      (message, index) => toNewMessage(message, `input.messages[${index}]`) as ThreadCreateParams.Message,
    );
  }
  if (input.toolResources != null) {
    refuse(checkToolResources(input.toolResources, 'input.toolResources'));
    params.tool_resources = input.toolResources as ThreadCreateParams['tool_resources'];
  }
  if (input.metadata != null) {
    refuse(checkMetadata(input.metadata, 'input.metadata'));
    params.metadata = input.metadata as Record<string, string>;
  }
  if (input.idempotencyKey != null && !IDEMPOTENCY_KEY_PATTERN.test(input.idempotencyKey)) {
    throw badUserInput(
      'input.idempotencyKey: must be 1 to 255 printable ASCII characters without spaces',
      'input.idempotencyKey',
    );
  }
  return params;
}

/**
 * Validates updateThread's input and maps it to the API's wire format. Only the fields present in
 * the input are sent; an explicit null is sent as null, so the upstream decides what it clears.
 */
export function toUpdateParams(input: UpdateThreadInputShape): ThreadUpdateParams {
  const params: ThreadUpdateParams = {};
  if (input.metadata !== undefined) {
    if (input.metadata !== null) refuse(checkMetadata(input.metadata, 'input.metadata'));
    params.metadata = input.metadata as ThreadUpdateParams['metadata'];
  }
  if (input.toolResources !== undefined) {
    if (input.toolResources !== null) refuse(checkToolResources(input.toolResources, 'input.toolResources'));
    params.tool_resources = input.toolResources as ThreadUpdateParams['tool_resources'];
  }
  return params;
}
