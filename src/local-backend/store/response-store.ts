import type { NewStoredMessage } from './store.ts';

/**
 * The Responses part of the local backend's storage seam (`Store.responses`). A record is the
 * Responses API's wire object (`response`) with what the driver needs beside it, never shown on
 * the wire: the input items (the model's context when the response has no conversation) and the
 * deadline after which it fails with `timeout`.
 *
 * A response may belong to a conversation (a stored thread): its input items become the
 * conversation's messages in the write that creates it, and its output items in the write that
 * finishes it. It is not deleted with the conversation, as OpenAI keeps responses on their own.
 */

export const RESPONSE_STATUSES = ['queued', 'in_progress', 'completed', 'failed', 'cancelled', 'incomplete'] as const;

export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

/** A response in one of these is still being produced; every other status is final. */
export const ACTIVE_RESPONSE_STATUSES: readonly ResponseStatus[] = ['queued', 'in_progress'];

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export type ResponseOutputItem =
  | { id: string; type: 'message'; status: 'completed' | 'incomplete'; role: 'assistant'; content: OutputTextPart[] }
  | { id: string; type: 'function_call'; status: 'completed'; call_id: string; name: string; arguments: string };

/** A flat function tool, as the Responses API takes and shows it. */
export interface ResponseFunctionTool {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean;
}

export interface StoredResponse {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: ResponseOutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: ResponseFunctionTool[];
  top_p: number;
  truncation: 'disabled' | 'auto';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
  conversation: { id: string } | null;
}

/** A response as the driver sees it: the wire object and its private state. */
export interface ResponseRecord {
  response: StoredResponse;
  /** The request's input items as stored messages (what a conversation would have received). */
  input: NewStoredMessage[];
  /** When it fails with `timeout` (ms since the epoch); null once it is final. */
  expiresAt: number | null;
}

/** The settings of a new response; the store mints its id, times and status. */
export type NewStoredResponse = Omit<
  StoredResponse,
  'id' | 'object' | 'created_at' | 'status' | 'completed_at' | 'error' | 'incomplete_details' | 'output' | 'usage'
> & {
  input: NewStoredMessage[];
  /** LOCAL_BACKEND_RUN_TIMEOUT_S, from creation. */
  timeoutMs: number;
};

/** Fields a transition replaces (`id`, `created_at`, `conversation` never change). */
export type ResponsePatch = Partial<Omit<StoredResponse, 'id' | 'object' | 'created_at' | 'conversation'>> & {
  expiresAt?: number | null;
};

export type CreateResponseResult = { kind: 'ok'; record: ResponseRecord } | { kind: 'no-conversation' };

export interface ResponseStore {
  /**
   * Creates a `queued` response; with a conversation, its input messages are added to that
   * conversation in the same write (`no-conversation` when it does not exist).
   */
  createResponse(input: NewStoredResponse): Promise<CreateResponseResult>;
  getResponse(id: string): Promise<ResponseRecord | undefined>;
  /**
   * Applies `patch` only while the status is one of `from` (a cancel or a timeout that got there
   * first wins). `items` are the patch's `output` items as conversation messages, one for one:
   * they are added to the response's conversation in the same write (when it still exists), and
   * each output item takes its message's id, so the response and the conversation name an item
   * alike. undefined when the response is gone or its status was not in `from`.
   */
  transitionResponse(
    id: string,
    from: readonly ResponseStatus[],
    patch: ResponsePatch,
    items?: NewStoredMessage[],
  ): Promise<ResponseRecord | undefined>;
  /** Responses in `statuses` (the restart recovery reads the ones left in flight). */
  responsesInStatus(statuses: readonly ResponseStatus[]): Promise<StoredResponse[]>;
}
