import type { Thread, ThreadCreateParams, ThreadUpdateParams } from 'openai/resources/beta/threads/threads';
import {
  CONVERSATION_INPUT_ROLES,
  CONVERSATION_MAX_INITIAL_ITEMS,
  fromConversationParts,
  type MessageItemInput,
  readRole,
  toMessageItem,
} from '../../domain/conversation-items.ts';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { assertServable, normaliseThread, servableId } from '../answer-checks.ts';
import { UpstreamShapeError } from '../calls/faults.ts';
import type { NewMessage, UpstreamMessage } from '../upstream-api.ts';

/**
 * The graph's threads and messages in the Conversations API's terms, and back. Pure functions: the
 * adapter calls them before and after each upstream call, and they are unit-tested on their own.
 *
 * What has no equivalent is reported as a `Refusal` (the adapter turns it into
 * `UNSUPPORTED_BY_UPSTREAM` before any call): nothing is dropped silently or hidden in metadata.
 */

export const CONVERSATIONS_API = 'Conversations API';

/** Something the Conversations API cannot carry, named by the GraphQL argument that holds it. */
export interface Refusal {
  /** The GraphQL argument path, e.g. `input.messages[2].attachments`. */
  argument: string;
  message: string;
  /** `limit`: over an upstream limit (BAD_USER_INPUT); `unsupported`: no equivalent upstream. */
  kind: 'unsupported' | 'limit';
}

function unsupported(argument: string, why: string): Refusal {
  return {
    argument,
    kind: 'unsupported',
    message: `${argument}: ${why} (the upstream is OpenAI's ${CONVERSATIONS_API}).`,
  };
}

function hasEntries(value: unknown): boolean {
  if (value == null) return false;
  if (Array.isArray(value)) return value.length > 0;
  return !isPlainObject(value) || Object.keys(value).length > 0;
}

/** Runs over the Conversations API: not mapped yet (a run would be a Responses call on the conversation). */
export function refuseRuns(argument: string): Refusal {
  return unsupported(
    argument,
    "runs and assistants over the Conversations API live in the gateway's own records, which serve one tenant: not with callers' own keys (use OPENAI_API_KEY, or a Threads API upstream)",
  );
}

/** Assistants have no Conversations equivalent: a Responses-based run takes its model and instructions itself. */
export function refuseAssistants(argument: string): Refusal {
  return unsupported(argument, 'assistants are a Threads API object with no equivalent here');
}

/** A message the Conversations API can take as an item, or why not. */
export function refuseMessage(message: NewMessage, at: string): Refusal | null {
  if (!(CONVERSATION_INPUT_ROLES as readonly string[]).includes(message.role)) {
    return unsupported(
      `${at}role`,
      `a message with role ${message.role.toUpperCase()} cannot be added; message items take USER, ASSISTANT, SYSTEM or DEVELOPER`,
    );
  }
  if (hasEntries(message.attachments)) {
    return unsupported(`${at}attachments`, 'message items have no attachments; reference files in the content instead');
  }
  if (hasEntries(message.metadata)) {
    return unsupported(`${at}metadata`, 'message items have no metadata');
  }
  return null;
}

/** `createThread`'s input, checked against what `POST /conversations` can take. */
export function refuseThreadCreate(body: ThreadCreateParams): Refusal | null {
  if (body.tool_resources != null) {
    return unsupported('input.toolResources', 'conversations have no tool resources');
  }
  const messages = body.messages ?? [];
  if (messages.length > CONVERSATION_MAX_INITIAL_ITEMS) {
    return {
      argument: 'input.messages',
      kind: 'limit',
      message:
        `input.messages: OpenAI's ${CONVERSATIONS_API} takes at most ${CONVERSATION_MAX_INITIAL_ITEMS} items ` +
        `when a conversation is created, got ${messages.length}; create the thread with the first ` +
        `${CONVERSATION_MAX_INITIAL_ITEMS} and add the rest with createMessage.`,
    };
  }
  for (const [index, message] of messages.entries()) {
    const found = refuseMessage(message as NewMessage, `input.messages[${index}].`);
    if (found) return found;
  }
  return null;
}

/** `updateThread`'s input: only metadata has an equivalent. */
export function refuseThreadUpdate(body: ThreadUpdateParams): Refusal | null {
  if (body.tool_resources != null) {
    return unsupported('input.toolResources', 'conversations have no tool resources');
  }
  return null;
}

export function refuseMessageUpdate(): Refusal {
  return unsupported('updateMessage', 'a conversation item cannot be changed once added, and items have no metadata');
}

/** The body of `POST /conversations` for a checked `createThread` input. */
export function toConversationCreate(body: ThreadCreateParams): {
  items?: MessageItemInput[];
  metadata?: Record<string, string> | null;
} {
  const out: { items?: MessageItemInput[]; metadata?: Record<string, string> | null } = {};
  if (body.metadata !== undefined) out.metadata = body.metadata as Record<string, string> | null;
  if (body.messages?.length) out.items = body.messages.map((message) => toMessageItem(message.role, message.content));
  return out;
}

/** A conversation as the graph's Thread: the same id, time and metadata; tool resources null. */
export function toThread(value: unknown, expectedId?: string): Thread {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not a conversation object');
  if (value.object !== undefined && value.object !== 'conversation') {
    throw new UpstreamShapeError('not a conversation object');
  }
  return normaliseThread({ ...value, tool_resources: null }, expectedId);
}

/**
 * A conversation item as the graph's message, or null when it is not a message (tool calls,
 * reasoning, …). An item keeps no timestamp, metadata, attachments, assistant or run.
 */
export function toMessage(value: unknown, conversationId: string, expectedId?: string): UpstreamMessage | null {
  if (!isPlainObject(value)) throw new UpstreamShapeError('a conversation item is not an object');
  const id = servableId(value.id, 'a conversation item');
  if (expectedId !== undefined && id !== expectedId) {
    throw new UpstreamShapeError('the item id is not the one asked for');
  }
  if (value.type !== 'message') return null;
  assertServable(value, 'message item');
  if (typeof value.content !== 'string' && !Array.isArray(value.content)) {
    throw new UpstreamShapeError('a message item has no content');
  }
  return {
    id,
    thread_id: conversationId,
    created_at: null,
    role: readRole(value.role),
    content: fromConversationParts(value.content),
    attachments: null,
    metadata: {},
    status: typeof value.status === 'string' ? value.status : null,
    assistant_id: null,
    run_id: null,
  };
}
