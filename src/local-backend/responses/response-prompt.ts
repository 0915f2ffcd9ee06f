import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { isPlainObject } from '../../domain/thread-rules.ts';
import type { ModelRequest } from '../model/model.ts';
import type { ResponseRecord } from '../store/response-store.ts';
import type { NewStoredMessage, Store, StoredMessage } from '../store/store.ts';
import { outputText, toolCallOf } from './tool-call-items.ts';

/** The text parts of a stored message, one per line (images and files are not sent). */
function textOf(message: Pick<StoredMessage, 'content'>): string {
  return message.content
    .map((part) => {
      if (!isPlainObject(part) || part.type !== 'text' || !isPlainObject(part.text)) return '';
      return typeof part.text.value === 'string' ? part.text.value : '';
    })
    .filter(Boolean)
    .join('\n');
}

/** The whole conversation, oldest first, read page by page. */
export async function conversationMessages(store: Store, conversationId: string): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listMessages(conversationId, { limit: 100, order: 'asc', ...(after ? { after } : {}) });
    if (page.kind !== 'ok') return all;
    all.push(...page.data);
    after = page.data.at(-1)?.id;
    if (!page.has_more || after === undefined) return all;
  }
}

/**
 * Items as Chat Completions messages: consecutive function calls become one assistant message's
 * `tool_calls` (as Chat Completions wants them), each output a `tool` message after it.
 */
export function chatMessages(items: ReadonlyArray<Pick<NewStoredMessage, 'role' | 'content'>>) {
  const messages: ChatCompletionMessageParam[] = [];
  let calling: ChatCompletionAssistantMessageParam | undefined;
  for (const item of items) {
    const part = toolCallOf(item);
    if (part?.type === 'function_call') {
      const call = {
        id: part.call_id,
        type: 'function' as const,
        function: { name: part.name, arguments: part.arguments },
      };
      if (calling) calling.tool_calls = [...(calling.tool_calls ?? []), call];
      else {
        calling = { role: 'assistant', content: null, tool_calls: [call] };
        messages.push(calling);
      }
      continue;
    }
    calling = undefined;
    if (part?.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: part.call_id, content: outputText(part.output) });
      continue;
    }
    const content = textOf(item);
    if (item.role === 'assistant') messages.push({ role: 'assistant', content });
    else if (item.role === 'system') messages.push({ role: 'system', content });
    else if (item.role === 'developer') messages.push({ role: 'developer', content });
    else messages.push({ role: 'user', content });
  }
  return messages;
}

function functionTools(record: ResponseRecord): ChatCompletionFunctionTool[] {
  return record.response.tools.map((tool) => ({
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description === null ? {} : { description: tool.description }),
      ...(tool.parameters === null ? {} : { parameters: tool.parameters }),
      strict: tool.strict,
    },
  }));
}

function toolChoice(choice: unknown): ChatCompletionCreateParamsStreaming['tool_choice'] {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isPlainObject(choice) && choice.type === 'function' && typeof choice.name === 'string') {
    return { type: 'function', function: { name: choice.name } };
  }
  return 'auto';
}

function responseFormat(format: Record<string, unknown>): ChatCompletionCreateParamsStreaming['response_format'] {
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      json_schema: {
        name: String(format.name),
        ...(typeof format.description === 'string' ? { description: format.description } : {}),
        ...(isPlainObject(format.schema) ? { schema: format.schema } : {}),
        ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
      },
    };
  }
  return undefined; // text: the server's default
}

/**
 * A response's model request: its instructions as the system message (they never carry over to
 * the next response), then the conversation's items (which already hold this response's input),
 * or without a conversation the response's own input items.
 */
export async function buildResponseRequest(
  store: Store,
  record: ResponseRecord,
  signal: AbortSignal,
): Promise<ModelRequest> {
  const { response } = record;
  const items = response.conversation ? await conversationMessages(store, response.conversation.id) : record.input;
  const messages: ChatCompletionMessageParam[] = [];
  if (response.instructions) messages.push({ role: 'system', content: response.instructions });
  messages.push(...chatMessages(items));
  return {
    model: response.model,
    messages,
    tools: functionTools(record),
    toolChoice: toolChoice(response.tool_choice),
    parallelToolCalls: response.parallel_tool_calls,
    temperature: response.temperature,
    topP: response.top_p,
    maxCompletionTokens: response.max_output_tokens,
    responseFormat: responseFormat(response.text.format),
    signal,
  };
}
