import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { isPlainObject } from '../../domain/thread-rules.ts';
import type { ModelRequest } from '../model/model.ts';
import type { RunRecord } from '../store/run-store.ts';
import type { Store, StoredMessage } from '../store/store.ts';

/** The text of a stored message: its text parts, one per line (images and files are not sent). */
function textOf(message: StoredMessage): string {
  return message.content
    .map((part) => {
      if (!isPlainObject(part) || part.type !== 'text' || !isPlainObject(part.text)) return '';
      return typeof part.text.value === 'string' ? part.text.value : '';
    })
    .filter(Boolean)
    .join('\n');
}

/** The whole thread, oldest first, read page by page. */
async function threadMessages(store: Store, threadId: string): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listMessages(threadId, { limit: 100, order: 'asc', ...(after ? { after } : {}) });
    if (page.kind !== 'ok') return all;
    all.push(...page.data);
    after = page.data.at(-1)?.id;
    if (!page.has_more || after === undefined) return all;
  }
}

function functionDefinition(fn: Record<string, unknown>): ChatCompletionFunctionTool['function'] {
  return {
    name: String(fn.name),
    ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
    ...(isPlainObject(fn.parameters) ? { parameters: fn.parameters } : {}),
    ...(typeof fn.strict === 'boolean' ? { strict: fn.strict } : {}),
  };
}

/** The run's function tools as Chat Completions tools (code_interpreter and file_search have none). */
function functionTools(tools: unknown[]): ChatCompletionFunctionTool[] {
  return tools.flatMap((tool) =>
    isPlainObject(tool) && tool.type === 'function' && isPlainObject(tool.function)
      ? [{ type: 'function' as const, function: functionDefinition(tool.function) }]
      : [],
  );
}

function toolChoice(choice: unknown): ChatCompletionCreateParamsStreaming['tool_choice'] {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isPlainObject(choice) && choice.type === 'function' && isPlainObject(choice.function)) {
    return { type: 'function', function: { name: String(choice.function.name) } };
  }
  return 'auto';
}

function responseFormat(format: unknown): ChatCompletionCreateParamsStreaming['response_format'] {
  if (!isPlainObject(format)) return undefined; // "auto": the server's default
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema' && isPlainObject(format.json_schema)) {
    const schema = format.json_schema;
    return {
      type: 'json_schema',
      json_schema: {
        name: String(schema.name),
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        ...(isPlainObject(schema.schema) ? { schema: schema.schema } : {}),
        ...(typeof schema.strict === 'boolean' ? { strict: schema.strict } : {}),
      },
    };
  }
  return { type: 'text' };
}

/**
 * A run's model request: its instructions as the system message, the thread's messages (the last
 * `truncation_strategy.last_messages` of them when set), then each tool round so far as an
 * assistant message with its tool calls followed by the submitted outputs.
 */
export async function buildModelRequest(store: Store, record: RunRecord, signal: AbortSignal): Promise<ModelRequest> {
  const { run } = record;
  const messages: ChatCompletionMessageParam[] = [];
  if (run.instructions) messages.push({ role: 'system', content: run.instructions });
  let thread = await threadMessages(store, run.thread_id);
  const keep = run.truncation_strategy.type === 'last_messages' ? run.truncation_strategy.last_messages : null;
  if (keep !== null) thread = thread.slice(-keep);
  for (const message of thread) {
    const content = textOf(message);
    messages.push(message.role === 'assistant' ? { role: 'assistant', content } : { role: 'user', content });
  }
  for (const round of record.rounds) {
    messages.push({
      role: 'assistant',
      content: round.text || null,
      tool_calls: round.tool_calls.map((call) => ({ id: call.id, type: 'function', function: call.function })),
    });
    for (const output of round.outputs ?? []) {
      messages.push({ role: 'tool', tool_call_id: output.tool_call_id, content: output.output });
    }
  }
  return {
    model: run.model,
    messages,
    tools: functionTools(run.tools),
    toolChoice: toolChoice(run.tool_choice),
    parallelToolCalls: run.parallel_tool_calls,
    temperature: run.temperature,
    topP: run.top_p,
    maxCompletionTokens: run.max_completion_tokens,
    responseFormat: responseFormat(run.response_format),
    signal,
  };
}
