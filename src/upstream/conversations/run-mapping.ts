import { toMessageItem } from '../../domain/conversation-items.ts';
import type { Run, RunStatus, RunToolCall, RunUsage } from '../../domain/run.ts';
import { isPlainObject } from '../../domain/thread-rules.ts';
import type { ResponseFold, ResponseStatus, RunRecord, RunSettings } from '../../features/runs/run-records.ts';
import { assertServable, servableId, toUnixSeconds } from '../answer-checks.ts';
import { UpstreamShapeError } from '../calls/faults.ts';
import type { NewMessage, UpstreamMessage } from '../upstream-api.ts';
import { CONVERSATIONS_API, type Refusal, toMessage } from './mapping.ts';

/**
 * Runs over the Responses API: a run's settings as a response create, a response folded into what
 * the run keeps of it, and a run record as the graph's `Run` (the status table of docs/runs.md).
 * Pure functions, unit-testable; the adapter (responses-runs.ts) calls them around each call.
 */

function unsupported(argument: string, why: string): Refusal {
  return { argument, kind: 'unsupported', message: `${argument}: ${why} (the upstream is OpenAI's Responses API).` };
}

/**
 * Tools in the Threads API's shape that the Responses API can run: functions only. Its own
 * `code_interpreter` and `file_search` take a container and vector stores, which a Threads tool
 * keeps in `tool_resources` that runs over this upstream do not have.
 */
export function refuseRunTools(tools: readonly unknown[] | undefined, argument: string): Refusal | null {
  for (const [index, tool] of (tools ?? []).entries()) {
    const type = isPlainObject(tool) ? tool.type : undefined;
    if (type !== 'function') {
      return unsupported(
        `${argument}[${index}]`,
        `a ${String(type)} tool has no counterpart for runs over ${CONVERSATIONS_API} conversations; only function tools`,
      );
    }
  }
  return null;
}

/** A Threads API `tool_choice` in the Responses API's terms, or a refusal. */
export function toToolChoice(choice: unknown): { value: unknown } | Refusal {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return { value: choice };
  if (isPlainObject(choice) && choice.type === 'function' && isPlainObject(choice.function)) {
    return { value: { type: 'function', name: choice.function.name } };
  }
  return unsupported('input.toolChoice', 'only "none", "auto", "required" or a function choice');
}

/** A Threads API `response_format` as the Responses API's `text.format`; `"auto"` sends nothing. */
export function toTextFormat(format: unknown): { value: unknown } | Refusal {
  if (format === 'auto') return { value: undefined };
  if (isPlainObject(format) && (format.type === 'text' || format.type === 'json_object')) {
    return { value: { type: format.type } };
  }
  if (isPlainObject(format) && format.type === 'json_schema' && isPlainObject(format.json_schema)) {
    return { value: { type: 'json_schema', ...format.json_schema } };
  }
  return unsupported('input.responseFormat', 'not a response format the Responses API takes');
}

/** The flat function tools of the Responses API, from the Threads API's `{type, function: {…}}`. */
function toResponseTools(tools: readonly unknown[]): unknown[] {
  return tools.map((tool) => {
    const fn = (tool as { function: Record<string, unknown> }).function;
    const flat: Record<string, unknown> = { type: 'function', name: fn.name };
    if (fn.description !== undefined) flat.description = fn.description;
    flat.parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (fn.strict !== undefined) flat.strict = fn.strict;
    return flat;
  });
}

/** One response of a run: background, stored, on the conversation, with every setting again. */
export function toResponseCreate(
  settings: RunSettings,
  conversation: string,
  input: unknown[],
): Record<string, unknown> {
  const wire: Record<string, unknown> = { model: settings.model, conversation };
  if (input.length > 0) wire.input = input;
  if (settings.instructions != null) wire.instructions = settings.instructions;
  if (settings.tools.length > 0) wire.tools = toResponseTools(settings.tools);
  if (settings.toolChoice !== undefined) wire.tool_choice = settings.toolChoice;
  if (settings.parallelToolCalls !== undefined) wire.parallel_tool_calls = settings.parallelToolCalls;
  if (settings.temperature != null) wire.temperature = settings.temperature;
  if (settings.topP != null) wire.top_p = settings.topP;
  if (settings.maxOutputTokens !== undefined) wire.max_output_tokens = settings.maxOutputTokens;
  if (settings.responseFormat !== undefined) wire.text = { format: settings.responseFormat };
  if (Object.keys(settings.metadata).length > 0) wire.metadata = settings.metadata;
  wire.background = true;
  wire.store = true;
  return wire;
}

/** A run's additional messages as input items of its first response. */
export function toInputMessages(messages: readonly NewMessage[] | undefined): unknown[] {
  return (messages ?? []).map((message) => toMessageItem(message.role, message.content));
}

const RESPONSE_STATUSES: readonly ResponseStatus[] = [
  'queued',
  'in_progress',
  'completed',
  'failed',
  'cancelled',
  'incomplete',
];

function tokens(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new UpstreamShapeError(`${what} is not a token count`);
  }
  return value;
}

function seconds(value: unknown, what: string): number | null {
  if (value == null) return null;
  const read = toUnixSeconds(value);
  if (read === undefined) throw new UpstreamShapeError(`${what} is not a timestamp the gateway can serve`);
  return read;
}

function functionCall(item: Record<string, unknown>): RunToolCall {
  if (typeof item.name !== 'string' || typeof item.arguments !== 'string') {
    throw new UpstreamShapeError('a function_call item has no name or arguments');
  }
  return { id: servableId(item.call_id, 'a function_call item'), name: item.name, arguments: item.arguments };
}

/**
 * A response as the run keeps it, checked: the id asked for, a status the API documents, the
 * conversation asked for, message items the conversations mapping serves, call ids that are ids
 * and each once, usage as token counts.
 */
export function foldResponse(value: unknown, conversationId: string, expectedId?: string): ResponseFold {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not a response object');
  assertServable(value, 'response');
  const id = servableId(value.id, 'a response');
  if (expectedId !== undefined && id !== expectedId)
    throw new UpstreamShapeError('the response id is not the one asked for');
  if (value.object !== undefined && value.object !== 'response') throw new UpstreamShapeError('not a response object');
  const status = value.status as ResponseStatus;
  if (!RESPONSE_STATUSES.includes(status))
    throw new UpstreamShapeError('response.status is not a status the gateway knows');
  const conversation = isPlainObject(value.conversation) ? value.conversation.id : value.conversation;
  if (conversation != null && conversation !== conversationId) {
    throw new UpstreamShapeError('the response runs on another conversation');
  }
  if (value.output != null && !Array.isArray(value.output))
    throw new UpstreamShapeError('response.output is not a list');
  const messageItems: unknown[] = [];
  const functionCalls: RunToolCall[] = [];
  for (const item of (value.output ?? []) as unknown[]) {
    if (!isPlainObject(item)) throw new UpstreamShapeError('an output item is not an object');
    if (item.type === 'message') {
      toMessage(item, conversationId);
      messageItems.push(item);
    } else if (item.type === 'function_call') {
      const call = functionCall(item);
      if (functionCalls.some((seen) => seen.id === call.id)) throw new UpstreamShapeError('a call_id repeats');
      functionCalls.push(call);
    }
  }
  return {
    id,
    status,
    createdAt: seconds(value.created_at, 'response.created_at'),
    completedAt: seconds(value.completed_at, 'response.completed_at'),
    messageItems,
    functionCalls,
    usage: readUsage(value.usage),
    error: readError(value.error),
    incompleteReason: isPlainObject(value.incomplete_details)
      ? String(value.incomplete_details.reason ?? '') || null
      : null,
  };
}

function readUsage(value: unknown): ResponseFold['usage'] {
  if (value == null) return null;
  if (!isPlainObject(value)) throw new UpstreamShapeError('response.usage is not an object');
  const inputTokens = tokens(value.input_tokens, 'response.usage.input_tokens');
  const outputTokens = tokens(value.output_tokens, 'response.usage.output_tokens');
  const totalTokens =
    value.total_tokens == null ? inputTokens + outputTokens : tokens(value.total_tokens, 'response.usage.total_tokens');
  return { inputTokens, outputTokens, totalTokens };
}

function readError(value: unknown): ResponseFold['error'] {
  if (value == null) return null;
  if (!isPlainObject(value) || typeof value.message !== 'string')
    throw new UpstreamShapeError('response.error is not {code, message}');
  return { code: typeof value.code === 'string' ? value.code : 'server_error', message: value.message };
}

/** The run's status from its current response (the table in docs/runs.md). */
export function runStatus(current: ResponseFold, cancelRequested: boolean): RunStatus {
  switch (current.status) {
    case 'queued':
    case 'in_progress':
      return cancelRequested ? 'cancelling' : current.status;
    case 'completed':
      // No `requires_action` upstream: calls with no output yet are what the run waits on.
      if (current.functionCalls.length === 0) return 'completed';
      return cancelRequested ? 'cancelled' : 'requires_action';
    default:
      return current.status;
  }
}

/**
 * The record with its current response replaced by (or, for a new response of the chain, followed
 * by) `fold`, its status derived again, and the times the gateway saw each change first (`now`,
 * Unix seconds) where the response reports none. Bumps the version for the conditional save.
 */
export function advance(record: RunRecord, fold: ResponseFold, now: number): RunRecord {
  const responses = [...record.responses];
  if (responses.at(-1)?.id === fold.id) responses[responses.length - 1] = fold;
  else responses.push(fold);
  const status = runStatus(fold, record.cancelRequested);
  const next: RunRecord = { ...record, responses, status, version: record.version + 1 };
  if (status !== 'queued' && status !== 'cancelling' && next.startedAt === null) next.startedAt = now;
  if (status === 'completed') next.completedAt = fold.completedAt ?? now;
  if (status === 'failed') next.failedAt ??= now;
  if (status === 'cancelled') next.cancelledAt ??= now;
  return next;
}

function summedUsage(responses: readonly ResponseFold[]): RunUsage | null {
  const used = responses.flatMap((response) => (response.usage ? [response.usage] : []));
  if (used.length === 0) return null;
  const sum = (pick: (usage: NonNullable<ResponseFold['usage']>) => number) =>
    used.reduce((total, usage) => total + pick(usage), 0);
  return {
    promptTokens: sum((usage) => usage.inputTokens),
    completionTokens: sum((usage) => usage.outputTokens),
    totalTokens: sum((usage) => usage.totalTokens),
  };
}

/** A new run's record, from its first response (`now`: Unix seconds). */
export function newRunRecord(
  id: string,
  threadId: string,
  assistantId: string | null,
  settings: RunSettings,
  fold: ResponseFold,
  now: number,
): RunRecord {
  const created: RunRecord = {
    id,
    threadId,
    assistantId,
    settings,
    responses: [],
    status: 'queued',
    createdAt: fold.createdAt ?? now,
    startedAt: null,
    completedAt: null,
    failedAt: null,
    cancelledAt: null,
    cancelRequested: false,
    version: 0,
  };
  return advance(created, fold, now);
}

/** The run as the graph serves it. */
export function toRun(record: RunRecord): Run {
  const current = record.responses.at(-1) as ResponseFold;
  return {
    object: 'thread.run',
    id: record.id,
    threadId: record.threadId,
    assistantId: record.assistantId,
    status: record.status,
    model: record.settings.model,
    instructions: record.settings.instructions,
    tools: record.settings.tools,
    metadata: record.settings.metadata,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    failedAt: record.failedAt,
    cancelledAt: record.cancelledAt,
    lastError:
      record.status === 'failed' ? (current.error ?? { code: 'server_error', message: 'The response failed.' }) : null,
    incompleteReason: record.status === 'incomplete' ? current.incompleteReason : null,
    requiredToolCalls: record.status === 'requires_action' ? current.functionCalls : [],
    usage: summedUsage(record.responses),
  };
}

/** The messages a run wrote: its responses' message items, oldest first, naming the run. */
export function runMessages(record: RunRecord): UpstreamMessage[] {
  return record.responses.flatMap((response) =>
    response.messageItems.flatMap((item) => {
      const message = toMessage(item, record.threadId);
      return message ? [{ ...message, run_id: record.id, assistant_id: record.assistantId }] : [];
    }),
  );
}
