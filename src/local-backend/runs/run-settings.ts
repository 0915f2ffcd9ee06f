import { checkMetadata, checkWireMessage } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail } from '../http/answer.ts';
import { unknownField } from '../http/body.ts';
import type { NewStoredRun, StoredAssistant } from '../store/run-store.ts';
import {
  checkModel,
  checkNumber,
  checkReasoningEffort,
  checkResponseFormat,
  checkText,
  checkTokenBudget,
  checkToolChoice,
  checkTools,
  checkTruncation,
  MAX_INSTRUCTIONS_CHARACTERS,
  MAX_RUN_TOOLS,
} from './run-rules.ts';

const CREATE_FIELDS = [
  'assistant_id',
  'model',
  'reasoning_effort',
  'instructions',
  'additional_instructions',
  'additional_messages',
  'tools',
  'metadata',
  'temperature',
  'top_p',
  'stream',
  'max_prompt_tokens',
  'max_completion_tokens',
  'truncation_strategy',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
] as const;
const CREATE_FIELD_SET = new Set<string>(CREATE_FIELDS);

/**
 * "Create thread and run"'s fields: a run's, less what only a run on an existing thread takes
 * (`additional_*`, `reasoning_effort`), plus the thread to create and its tools' resources.
 */
export const THREAD_AND_RUN_FIELDS: ReadonlySet<string> = new Set([
  ...CREATE_FIELDS.filter(
    (field) => !['reasoning_effort', 'additional_instructions', 'additional_messages'].includes(field),
  ),
  'thread',
  'tool_resources',
]);

/** `stream`: true answers server-sent events (runs/run-stream.ts); anything but a boolean is a 400. */
export function checkStream(stream: unknown): BackendAnswer | null {
  if (stream == null || typeof stream === 'boolean') return null;
  return fail(400, { message: 'stream: must be a boolean', param: 'stream' });
}

/** `POST /v1/threads/{id}/runs`: the API's fields and bounds (a `model` may stand for the assistant). */
export function checkCreateRun(body: Record<string, unknown>): BackendAnswer | null {
  const extra = unknownField(body, CREATE_FIELD_SET) ?? checkStream(body.stream);
  if (extra) return extra;
  if (body.assistant_id == null && body.model == null) {
    return fail(400, {
      message: "Missing required parameter: 'assistant_id' (or, on the local backend, 'model').",
      param: 'assistant_id',
      code: 'missing_required_parameter',
    });
  }
  if (body.assistant_id != null && typeof body.assistant_id !== 'string') {
    return fail(400, { param: 'assistant_id', message: 'assistant_id: must be a string' });
  }
  const messages = body.additional_messages;
  if (messages != null && !Array.isArray(messages)) {
    return fail(400, { param: 'additional_messages', message: 'additional_messages: must be an array' });
  }
  for (const [index, message] of (messages ?? []).entries()) {
    const found = checkWireMessage(message, `additional_messages[${index}]`);
    if (found) return fail(400, found);
  }
  if (body.parallel_tool_calls != null && typeof body.parallel_tool_calls !== 'boolean') {
    return fail(400, { param: 'parallel_tool_calls', message: 'parallel_tool_calls: must be a boolean' });
  }
  const found =
    (body.model == null ? null : checkModel(body.model, 'model')) ??
    checkText(body.instructions, 'instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkText(body.additional_instructions, 'additional_instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkTools(body.tools, 'tools', MAX_RUN_TOOLS) ??
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    checkNumber(body.temperature, 'temperature', 0, 2) ??
    checkNumber(body.top_p, 'top_p', 0, 1) ??
    checkTokenBudget(body.max_prompt_tokens, 'max_prompt_tokens') ??
    checkTokenBudget(body.max_completion_tokens, 'max_completion_tokens') ??
    checkTruncation(body.truncation_strategy, 'truncation_strategy') ??
    checkToolChoice(body.tool_choice, 'tool_choice') ??
    checkResponseFormat(body.response_format, 'response_format') ??
    checkReasoningEffort(body.reasoning_effort, 'reasoning_effort');
  return found ? fail(400, found) : null;
}

/** The run's settings: the request's where given, else the assistant's, else the API's defaults. */
export function runSettings(
  body: Record<string, unknown>,
  assistant: StoredAssistant | undefined,
  timeoutMs: number,
): NewStoredRun {
  const base = (body.instructions as string | null | undefined) ?? assistant?.instructions ?? '';
  const extra = (body.additional_instructions as string | null | undefined) ?? '';
  const truncation = body.truncation_strategy as {
    type: 'auto' | 'last_messages';
    last_messages?: number | null;
  } | null;
  return {
    assistant_id: assistant?.id ?? null,
    model: (body.model as string | null | undefined) ?? assistant?.model ?? '',
    instructions: [base, extra].filter(Boolean).join('\n\n'),
    tools: (body.tools as unknown[] | null | undefined) ?? assistant?.tools ?? [],
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
    temperature: (body.temperature as number | null | undefined) ?? assistant?.temperature ?? 1,
    top_p: (body.top_p as number | null | undefined) ?? assistant?.top_p ?? 1,
    max_prompt_tokens: (body.max_prompt_tokens as number | null | undefined) ?? null,
    max_completion_tokens: (body.max_completion_tokens as number | null | undefined) ?? null,
    truncation_strategy: truncation
      ? { type: truncation.type, last_messages: truncation.last_messages ?? null }
      : { type: 'auto', last_messages: null },
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: (body.parallel_tool_calls as boolean | null | undefined) ?? true,
    response_format: body.response_format ?? assistant?.response_format ?? 'auto',
    timeoutMs,
  };
}
