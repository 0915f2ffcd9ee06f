import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
} from 'openai/resources/beta/threads/threads';
import type { ThreadsPart } from '../domain/conversation-items.ts';
import type { MessageOrder } from '../domain/message-pagination.ts';
import type { UpstreamSession } from './calls/call-session.ts';

/**
 * The one seam between the graph and whatever API serves it. The loaders and resolvers see only
 * this interface; `threads-rest/` (the Threads REST API) and `conversations/` (OpenAI's
 * Conversations API) are its adapters. No resolver asks which adapter it runs on: an adapter that
 * cannot honour a field refuses it itself, before any upstream call (`UNSUPPORTED_BY_UPSTREAM`).
 *
 * Every method runs under the request's session (credential, deadline, budget) and the gateway's
 * retry policy; every answer is normalised and checked (ids as asked, integer seconds) by the adapter.
 */
export type UpstreamApiKind = 'threads' | 'conversations';

/** A content part as the graph serves it (the Threads API's shapes; adapters map into them). */
export type MessagePart = ThreadsPart;

/** A message, normalised: unknown part types already skipped, fields an upstream lacks are null. */
export interface UpstreamMessage {
  id: string;
  thread_id: string;
  /** Unix seconds; null where the upstream keeps none (Conversations items). */
  created_at: number | null;
  /** `user`, `assistant`, `system`, `developer`, `tool`, or whatever else the upstream said. */
  role: string;
  content: MessagePart[];
  attachments: unknown[] | null;
  metadata: Record<string, string>;
  status: string | null;
  assistant_id: string | null;
  run_id: string | null;
}

/** One forward list call: `limit` messages after the `after` message, in `order`. */
export interface MessageListParams {
  limit: number;
  order: MessageOrder;
  after?: string;
}

/** The SDK's list query for one page: `limit` and `order`, and `after` only when there is one. */
export function listParams(params: MessageListParams, after: string | undefined): MessageListParams {
  return after ? { limit: params.limit, order: params.order, after } : { limit: params.limit, order: params.order };
}

export interface MessagePage {
  data: UpstreamMessage[];
  hasMore: boolean;
}

/** A content part as a create takes it (the Threads API's input shapes; adapters map them). */
export type MessageInputPart =
  | { type: 'text'; text: string }
  | { type: 'image_file'; image_file: { file_id: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

/** What a message create carries, in the Threads API's terms (adapters map it); already validated. */
export interface NewMessage {
  /** `user`, `assistant`, `system`, `developer` or `tool`: the adapter refuses what its API does not take. */
  role: string;
  content: string | MessageInputPart[];
  attachments?: unknown[] | null;
  metadata?: Record<string, string> | null;
}

export interface UpstreamApi {
  readonly kind: UpstreamApiKind;
  retrieveThread(session: UpstreamSession, id: string): Promise<Thread | null>;
  createThread(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread>;
  updateThread(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread>;
  deleteThread(session: UpstreamSession, id: string): Promise<ThreadDeleted>;
  /** One page of a thread's messages; null when the thread does not exist. */
  listMessages(session: UpstreamSession, threadId: string, params: MessageListParams): Promise<MessagePage | null>;
  /** The message, or null when it (or its thread) does not exist, or is not a message. */
  retrieveMessage(session: UpstreamSession, threadId: string, id: string): Promise<UpstreamMessage | null>;
  createMessage(
    session: UpstreamSession,
    threadId: string,
    body: NewMessage,
    idempotencyKey?: string,
  ): Promise<UpstreamMessage>;
  updateMessage(
    session: UpstreamSession,
    threadId: string,
    id: string,
    metadata: Record<string, string>,
  ): Promise<UpstreamMessage>;
  deleteMessage(session: UpstreamSession, threadId: string, id: string): Promise<{ id: string; deleted: boolean }>;
}

export type { Thread, ThreadCreateParams, ThreadDeleted, ThreadUpdateParams };
