import type { InputRef } from '@pothos/core';
import { parseRunGlobalId, type ToolOutput } from '../domain/run.ts';
import { checkMetadata, checkThreadId, THREAD_ID_PATTERN } from '../domain/thread-rules.ts';
import { checkInstructions, checkToolOutput, checkTools, MAX_RUN_TOOLS } from '../domain/tool-rules.ts';
import { badUserInput } from '../errors.ts';
import type { NewRun } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { IDEMPOTENCY_KEY_PATTERN } from './thread-input.ts';
import { refuse, ThreadMessageInput, type ThreadMessageInputShape, toNewMessage } from './thread-message-input.ts';

export interface RunInputShape {
  assistantId?: string | number | null;
  model?: string | null;
  instructions?: string | null;
  additionalInstructions?: string | null;
  additionalMessages?: ThreadMessageInputShape[] | null;
  tools?: NonNullable<unknown> | null;
  toolChoice?: NonNullable<unknown> | null;
  parallelToolCalls?: boolean | null;
  temperature?: number | null;
  topP?: number | null;
  maxCompletionTokens?: number | null;
  responseFormat?: NonNullable<unknown> | null;
  metadata?: NonNullable<unknown> | null;
}

export interface ToolOutputInputShape {
  toolCallId: string | number;
  output: string;
}

export const RunInput: InputRef<RunInputShape> = builder.inputRef<RunInputShape>('RunInput').implement({
  description:
    'A new run of a thread. Give `assistantId`, or `model` (a Threads API server may refuse a run without an assistant: BAD_USER_INPUT). Fields left out take the assistant’s (or the upstream’s) defaults.',
  fields: (t) => ({
    assistantId: t.id({ description: 'The assistant to run (`asst_…`).' }),
    model: t.string({ description: 'The model to run with, instead of the assistant’s.' }),
    instructions: t.string({
      description: 'Instructions replacing the assistant’s for this run; at most 256,000 characters.',
    }),
    additionalInstructions: t.string({
      description: 'Instructions appended to the assistant’s for this run; at most 256,000 characters.',
    }),
    additionalMessages: t.field({
      type: [ThreadMessageInput],
      description:
        'Messages added to the thread before the run starts, in order; each under the same rules as createMessage’s input.',
    }),
    tools: t.field({
      type: 'JSON',
      description:
        'Tools replacing the assistant’s for this run, in the Threads API’s shape: at most 20 of `{type: "code_interpreter"}`, `{type: "file_search"}` or `{type: "function", function: {name, description?, parameters?, strict?}}` (`parameters` at most 64 KB as JSON).',
    }),
    toolChoice: t.field({
      type: 'JSON',
      description:
        'The API’s `tool_choice`: `"none"`, `"auto"`, `"required"` or `{type: "function", function: {name}}`.',
    }),
    parallelToolCalls: t.boolean({ description: 'Whether the model may call several functions at once.' }),
    temperature: t.float({ description: 'Sampling temperature for this run, 0 to 2.' }),
    topP: t.float({ description: 'Nucleus sampling for this run, 0 to 1 (the API’s `top_p`).' }),
    maxCompletionTokens: t.int({ description: 'The most completion tokens the run may use over all its steps.' }),
    responseFormat: t.field({
      type: 'JSON',
      description: 'The API’s `response_format`: `"auto"`, `{type: "text"}`, `{type: "json_object"}` or a JSON schema.',
    }),
    metadata: t.field({ type: 'JSON', description: 'Up to 16 string pairs (keys ≤ 64, values ≤ 512 characters).' }),
  }),
});

export const ToolOutputInput: InputRef<ToolOutputInputShape> = builder
  .inputRef<ToolOutputInputShape>('ToolOutputInput')
  .implement({
    description: 'The output of one of a run’s required tool calls.',
    fields: (t) => ({
      toolCallId: t.id({ required: true, description: 'The id of the required tool call this output answers.' }),
      output: t.string({ required: true, description: 'What the tool returned, as text; at most 512 KB (UTF-8).' }),
    }),
  });

/** An idempotencyKey argument, by the one rule createThread and createMessage use. */
export function assertIdempotencyKey(key: string | null | undefined, argument: string): void {
  if (key != null && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw badUserInput(`${argument}: must be 1 to 255 printable ASCII characters without spaces`, argument);
  }
}

/**
 * The run id an argument names: a run id (`run_…`) or a Run's global id, which must then name the
 * same thread as `threadId`.
 */
export function runIdOf(threadId: string, value: string | number, argument: string): string {
  const text = String(value);
  const global = parseRunGlobalId(text);
  if (global) {
    if (global.threadId !== threadId) {
      throw badUserInput(`${argument}: the global id names a run of another thread`, argument);
    }
    return global.runId;
  }
  if (!THREAD_ID_PATTERN.test(text)) {
    throw badUserInput(`${argument}: not a run id or a Run global id`, argument);
  }
  return text;
}

/**
 * Validates createRun's input and maps it to the seam's `NewRun`: every limit is checked here,
 * before any upstream call, by the same rules for every adapter.
 */
export function toNewRun(input: RunInputShape): NewRun {
  const run: NewRun = {};
  if (input.assistantId != null) {
    const id = String(input.assistantId);
    refuse(checkThreadId(id, 'input.assistantId'));
    run.assistantId = id;
  }
  if (input.model != null) {
    if (input.model.length === 0) throw badUserInput('input.model: must not be empty', 'input.model');
    run.model = input.model;
  }
  if (run.assistantId === undefined && run.model === undefined) {
    throw badUserInput('input: give assistantId or model, the run needs one of them', 'input.assistantId');
  }
  if (input.instructions != null) {
    refuse(checkInstructions(input.instructions, 'input.instructions'));
    run.instructions = input.instructions;
  }
  if (input.additionalInstructions != null) {
    refuse(checkInstructions(input.additionalInstructions, 'input.additionalInstructions'));
    run.additionalInstructions = input.additionalInstructions;
  }
  if (input.additionalMessages != null) {
    run.additionalMessages = input.additionalMessages.map((message, index) =>
      toNewMessage(message, `input.additionalMessages[${index}]`),
    );
  }
  if (input.tools != null) {
    refuse(checkTools(input.tools, 'input.tools', MAX_RUN_TOOLS));
    run.tools = input.tools as unknown[];
  }
  if (input.toolChoice != null) run.toolChoice = input.toolChoice;
  if (input.parallelToolCalls != null) run.parallelToolCalls = input.parallelToolCalls;
  if (input.temperature != null) run.temperature = input.temperature;
  if (input.topP != null) run.topP = input.topP;
  if (input.maxCompletionTokens != null) run.maxCompletionTokens = input.maxCompletionTokens;
  if (input.responseFormat != null) run.responseFormat = input.responseFormat;
  if (input.metadata != null) {
    refuse(checkMetadata(input.metadata, 'input.metadata'));
    run.metadata = input.metadata as Record<string, string>;
  }
  return run;
}

/** Validates submitToolOutputs' outputs on their own (ids, sizes); the run's state is checked after one read. */
export function toToolOutputs(outputs: readonly ToolOutputInputShape[]): ToolOutput[] {
  return outputs.map((output, index) => {
    const toolCallId = String(output.toolCallId);
    refuse(checkThreadId(toolCallId, `toolOutputs[${index}].toolCallId`));
    refuse(checkToolOutput(output.output, `toolOutputs[${index}].output`));
    return { toolCallId, output: output.output };
  });
}
