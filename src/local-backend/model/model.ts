import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { RunUsage } from '../store/run-store.ts';

/**
 * The model behind the local backend's runs. A request is what the run driver builds from the
 * thread and the run (Chat Completions messages and tools); the answer is a stream of events, so
 * the same interface can later feed a run's streaming deltas.
 */

export type ModelEvent =
  /** A piece of the answer's text. */
  | { type: 'text'; delta: string }
  /** One complete tool call (arguments already joined). */
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  /** Tokens used; the last one seen counts. */
  | { type: 'usage'; usage: RunUsage }
  /** The answer was cut at `max_completion_tokens` (the run ends `incomplete`). */
  | { type: 'length' };

export interface ModelRequest {
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: ChatCompletionFunctionTool[];
  toolChoice: ChatCompletionCreateParamsStreaming['tool_choice'];
  parallelToolCalls: boolean;
  temperature: number | null;
  topP: number | null;
  maxCompletionTokens: number | null;
  responseFormat: ChatCompletionCreateParamsStreaming['response_format'];
  /** Aborted on cancel, expiry and shutdown; the model stops reading and throws. */
  signal: AbortSignal;
}

export interface Model {
  stream(request: ModelRequest): AsyncIterable<ModelEvent>;
}

/** A model failure the run reports as `last_error` (`code` is the API's or ours). */
/**
 * The codes a failed run's `last_error` (and a failed response's `error`) may carry: the three the
 * API's description allows on a run, which a response's allows too. The message says the rest.
 */
export type FailureCode = 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';

export class ModelError extends Error {
  override name = 'ModelError';
  readonly code: FailureCode;

  constructor(code: FailureCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
