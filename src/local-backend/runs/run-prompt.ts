import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { approximateTokens } from '../model/echo-model.ts';
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

/** The run's prompt would pass its `max_prompt_tokens`: it ends `incomplete`, the model not asked. */
export class PromptBudgetSpent extends Error {
  override name = 'PromptBudgetSpent';
}

/** Approximate tokens of one message of a prompt (docs/runs.md), its line break included. */
function messageTokens(message: ChatCompletionMessageParam): number {
  return approximateTokens(typeof message.content === 'string' ? message.content : '') + 1;
}

const sumTokens = (messages: ChatCompletionMessageParam[]) =>
  messages.reduce((sum, message) => sum + messageTokens(message), 0);

/**
 * The thread's messages that fit the run's `max_prompt_tokens` (what earlier turns used counts
 * against it): under `truncation_strategy: auto`, the oldest go first until the rest fit, and at
 * least the newest stays; under `last_messages`, none go. Throws PromptBudgetSpent when even so the
 * prompt is over it.
 */
function withinPromptBudget(
  record: RunRecord,
  head: ChatCompletionMessageParam[],
  thread: ChatCompletionMessageParam[],
  tail: ChatCompletionMessageParam[],
): ChatCompletionMessageParam[] {
  const { run } = record;
  if (run.max_prompt_tokens === null) return thread;
  const used = record.rounds.reduce((sum, round) => sum + (round.usage?.prompt_tokens ?? 0), 0);
  const budget = run.max_prompt_tokens - used;
  // Each message counted once; the oldest go while the rest is over the budget (one pass).
  const sizes = thread.map(messageTokens);
  let total = sumTokens(head) + sumTokens(tail) + sizes.reduce((sum, size) => sum + size, 0);
  let first = 0;
  if (run.truncation_strategy.type === 'auto') {
    while (first < thread.length - 1 && total > budget) total -= sizes[first++] as number;
  }
  if (total > budget) throw new PromptBudgetSpent('The prompt would pass the run’s max_prompt_tokens.');
  return thread.slice(first);
}

/**
 * A run's model request: its instructions as the system message, the thread's messages (the last
 * `truncation_strategy.last_messages` of them when set, and those that fit `max_prompt_tokens`),
 * then each tool round so far as an assistant message with its tool calls followed by the
 * submitted outputs.
 */
export async function buildModelRequest(store: Store, record: RunRecord, signal: AbortSignal): Promise<ModelRequest> {
  const { run } = record;
  const head: ChatCompletionMessageParam[] = [];
  if (run.instructions) head.push({ role: 'system', content: run.instructions });
  let stored = await threadMessages(store, run.thread_id);
  const keep = run.truncation_strategy.type === 'last_messages' ? run.truncation_strategy.last_messages : null;
  if (keep !== null) stored = stored.slice(-keep);
  const thread = stored.map((message): ChatCompletionMessageParam => {
    const content = textOf(message);
    return message.role === 'assistant' ? { role: 'assistant', content } : { role: 'user', content };
  });
  const tail: ChatCompletionMessageParam[] = [];
  for (const round of record.rounds) {
    tail.push({
      role: 'assistant',
      content: round.text || null,
      tool_calls: round.tool_calls.map((call) => ({ id: call.id, type: 'function', function: call.function })),
    });
    for (const output of round.outputs ?? []) {
      tail.push({ role: 'tool', tool_call_id: output.tool_call_id, content: output.output });
    }
  }
  const messages = [...head, ...withinPromptBudget(record, head, thread, tail), ...tail];
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
