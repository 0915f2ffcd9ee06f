import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { type Model, ModelError, type ModelEvent, type ModelRequest } from './model.ts';

export interface ChatCompletionsModelOptions {
  /** LOCAL_BACKEND_MODEL_URL: the server's base URL, e.g. `http://127.0.0.1:11434/v1`. */
  baseURL: string;
  /** LOCAL_BACKEND_MODEL_KEY: sent as the bearer key; many local servers want none. */
  apiKey?: string;
}

/** A tool call as it arrives: id and name in its first chunk, arguments spread over many. */
interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

function requestBody(request: ModelRequest): ChatCompletionCreateParamsStreaming {
  return {
    model: request.model,
    messages: request.messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(request.tools.length > 0
      ? { tools: request.tools, tool_choice: request.toolChoice, parallel_tool_calls: request.parallelToolCalls }
      : {}),
    ...(request.temperature === null ? {} : { temperature: request.temperature }),
    ...(request.topP === null ? {} : { top_p: request.topP }),
    ...(request.maxCompletionTokens === null ? {} : { max_completion_tokens: request.maxCompletionTokens }),
    ...(request.responseFormat ? { response_format: request.responseFormat } : {}),
  };
}

/** The server's failure as the run's `last_error`: its status class, never its headers or key. */
function toModelError(error: unknown): unknown {
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) {
    return new ModelError('server_error', `The model server could not be reached: ${error.message}`, { cause: error });
  }
  if (error instanceof APIError) {
    const code = error.status === 429 ? 'rate_limit_exceeded' : 'server_error';
    return new ModelError(code, `The model server answered ${error.status ?? 'an error'}: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof Error && error.name !== 'AbortError') {
    // A connection dropped mid-stream surfaces as a plain error from the body reader.
    return new ModelError('server_error', `The model's stream broke off: ${error.message}`, { cause: error });
  }
  return error;
}

/**
 * Any OpenAI-compatible Chat Completions server (LOCAL_BACKEND_MODEL_URL), through the openai SDK:
 * one streamed request per model turn; text deltas pass through as they come, tool calls are
 * joined by their index and given out whole when the stream ends.
 */
export function chatCompletionsModel(options: ChatCompletionsModelOptions): Model {
  // No retries: a run that fails says so, and the client decides whether to run again.
  const client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey ?? 'local-backend', maxRetries: 0 });
  return {
    async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
      const calls = new Map<number, PartialCall>();
      let length = false;
      try {
        const stream = await client.chat.completions.create(requestBody(request), { signal: request.signal });
        for await (const chunk of stream) {
          if (chunk.usage) {
            const { prompt_tokens, completion_tokens, total_tokens } = chunk.usage;
            yield { type: 'usage', usage: { prompt_tokens, completion_tokens, total_tokens } };
          }
          const choice = chunk.choices[0];
          if (!choice) continue;
          if (choice.finish_reason === 'length') length = true;
          if (choice.delta.content) yield { type: 'text', delta: choice.delta.content };
          for (const delta of choice.delta.tool_calls ?? []) {
            const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
            call.id ||= delta.id ?? '';
            call.name ||= delta.function?.name ?? '';
            call.arguments += delta.function?.arguments ?? '';
            calls.set(delta.index, call);
          }
        }
      } catch (error) {
        throw toModelError(error);
      }
      for (const [index, call] of [...calls].sort(([a], [b]) => a - b)) {
        if (!call.name) throw new ModelError('server_error', `The model's tool call ${index} has no function name`);
        yield { type: 'tool_call', id: call.id || `call_${index}`, name: call.name, arguments: call.arguments };
      }
      if (length) yield { type: 'length' };
    },
  };
}
