import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
} from 'openai/resources/beta/threads/threads';
import type { Assistant, AssistantPage } from '../domain/assistant.ts';
import type { ThreadsPart } from '../domain/conversation-items.ts';
import type { MessageOrder } from '../domain/message-pagination.ts';
import type { Run, RunPage, ToolOutput } from '../domain/run.ts';
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
  /** Only the messages this run wrote (the Threads API's `run_id` filter). */
  run_id?: string;
}

/** The SDK's list query for one page: `limit` and `order`, `after` and `run_id` only when there are. */
export function listParams(params: MessageListParams, after: string | undefined): MessageListParams {
  const query: MessageListParams = { limit: params.limit, order: params.order };
  if (after) query.after = after;
  if (params.run_id) query.run_id = params.run_id;
  return query;
}

/** One forward list call of runs or assistants. */
export interface ListParams {
  limit: number;
  order: MessageOrder;
  after?: string;
}

/**
 * What a run create carries, in the graph's terms (adapters map it to their wire format); already
 * validated. `tools`, `toolChoice` and `responseFormat` keep the Threads API's shapes.
 */
export interface NewRun {
  assistantId?: string;
  model?: string;
  instructions?: string;
  additionalInstructions?: string;
  additionalMessages?: NewMessage[];
  tools?: unknown[];
  toolChoice?: unknown;
  parallelToolCalls?: boolean;
  temperature?: number;
  topP?: number;
  maxCompletionTokens?: number;
  responseFormat?: unknown;
  metadata?: Record<string, string>;
}

/**
 * An assistant's fields to create or change, in the graph's terms; already validated. On update
 * only the fields present are sent, and an explicit null is sent as null.
 */
export interface AssistantFields {
  name?: string | null;
  description?: string | null;
  model?: string;
  instructions?: string | null;
  tools?: unknown[];
  metadata?: Record<string, string> | null;
  temperature?: number | null;
  topP?: number | null;
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

/**
 * What happens in a run, as an upstream's stream tells it (the graph's `RunEvent`s). `position`
 * (opaque) is where the event is in a stream that can be resumed after it (`resumeRunStream`).
 */
export type UpstreamRunEvent = (
  | { type: 'RunStatusChanged'; run: Run }
  /** Text to append to content part `index` of the message. */
  | { type: 'MessageTextDelta'; messageId: string; index: number; text: string }
  | { type: 'MessageCompleted'; message: UpstreamMessage }
) & { position?: string };

/**
 * A run the upstream streams: the run as first reported, then its events until it ends or waits
 * on tool outputs. `events` throws when the stream breaks or says something that cannot be (a delta
 * of a message it never started); `close()` ends it early (the run goes on upstream). No `events`:
 * the server answered the streamed write plainly (it does not stream); read the run.
 */
export interface StreamedRun {
  run: Run;
  events?: AsyncIterable<UpstreamRunEvent>;
  close(): void;
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

  /*
   * Runs and assistants. A run is asynchronous: a create answers with the run as the upstream
   * first reports it, and reads see it move on. An adapter whose API has no runs (or no assistants)
   * refuses these with UNSUPPORTED_BY_UPSTREAM before any call; a Responses-based adapter maps
   * `NewRun` to a response and the response back to a `Run`.
   */
  /** Starts a run on the thread; never sent twice when its outcome is unknown. */
  createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run>;
  /** The run, or null when it (or its thread) does not exist. */
  retrieveRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run | null>;
  /** One page of the thread's runs; null when the thread does not exist. */
  listRuns(session: UpstreamSession, threadId: string, params: ListParams): Promise<RunPage | null>;
  /** Sends the outputs of a run's required tool calls (checked against the run by the caller). */
  submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]): Promise<Run>;
  cancelRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run>;
  /**
   * `createRun` and `submitToolOutputs` with the upstream streaming the run's events, where its API
   * can: null (nothing sent) where it cannot; the caller then uses the plain write and reads the run.
   */
  createRunStreaming?(
    session: UpstreamSession,
    threadId: string,
    body: NewRun,
    idempotencyKey?: string,
  ): Promise<StreamedRun | null>;
  submitToolOutputsStreaming?(
    session: UpstreamSession,
    threadId: string,
    runId: string,
    outputs: ToolOutput[],
  ): Promise<StreamedRun | null>;
  /**
   * The run's stream again, after `position` (an event's, from an earlier stream of this run), for
   * an instance that takes a run over; null where the API cannot resume (then the run is read).
   */
  resumeRunStream?(
    session: UpstreamSession,
    threadId: string,
    runId: string,
    position: string,
  ): Promise<StreamedRun | null>;
  /** The assistant, or null when it does not exist. */
  retrieveAssistant(session: UpstreamSession, id: string): Promise<Assistant | null>;
  listAssistants(session: UpstreamSession, params: ListParams): Promise<AssistantPage>;
  createAssistant(session: UpstreamSession, body: AssistantFields, idempotencyKey?: string): Promise<Assistant>;
  updateAssistant(session: UpstreamSession, id: string, body: AssistantFields): Promise<Assistant>;
  deleteAssistant(session: UpstreamSession, id: string): Promise<{ id: string; deleted: boolean }>;
}

export type { Thread, ThreadCreateParams, ThreadDeleted, ThreadUpdateParams };
