import type { AssistantCreateParams, AssistantUpdateParams } from 'openai/resources/beta/assistants';
import type { MessageCreateParams } from 'openai/resources/beta/threads/messages';
import type { RunCreateParamsNonStreaming } from 'openai/resources/beta/threads/runs/runs';
import type { ToolOutput } from '../../domain/run.ts';
import type { AssistantFields, ListParams, NewMessage, NewRun } from '../upstream-api.ts';

/**
 * The graph's run and assistant inputs in the Threads API's wire format. Only what the caller gave
 * is sent: the upstream applies its own defaults (and the assistant's) to the rest.
 */

/** A message of a create body on the wire (roles already checked by the adapter). */
export function toWireMessage(message: NewMessage): MessageCreateParams {
  const wire: MessageCreateParams = {
    role: message.role as MessageCreateParams['role'],
    content: message.content as MessageCreateParams['content'],
  };
  if (message.attachments != null) wire.attachments = message.attachments as MessageCreateParams['attachments'];
  if (message.metadata != null) wire.metadata = message.metadata;
  return wire;
}

/**
 * A run create. The Threads API requires `assistant_id`; a run with a model and no assistant is
 * passed on without one and the server's refusal comes back as any other 400 (BAD_USER_INPUT), so a
 * server that runs assistant-less runs serves them.
 */
export function toRunCreate(body: NewRun): RunCreateParamsNonStreaming {
  const wire: Partial<RunCreateParamsNonStreaming> = {};
  if (body.assistantId !== undefined) wire.assistant_id = body.assistantId;
  if (body.model !== undefined) wire.model = body.model;
  if (body.instructions !== undefined) wire.instructions = body.instructions;
  if (body.additionalInstructions !== undefined) wire.additional_instructions = body.additionalInstructions;
  if (body.additionalMessages !== undefined) {
    wire.additional_messages = body.additionalMessages.map(
      toWireMessage,
    ) as RunCreateParamsNonStreaming['additional_messages'];
  }
  if (body.tools !== undefined) wire.tools = body.tools as RunCreateParamsNonStreaming['tools'];
  if (body.toolChoice !== undefined) wire.tool_choice = body.toolChoice as RunCreateParamsNonStreaming['tool_choice'];
  if (body.parallelToolCalls !== undefined) wire.parallel_tool_calls = body.parallelToolCalls;
  if (body.temperature !== undefined) wire.temperature = body.temperature;
  if (body.topP !== undefined) wire.top_p = body.topP;
  if (body.maxCompletionTokens !== undefined) wire.max_completion_tokens = body.maxCompletionTokens;
  if (body.responseFormat !== undefined) {
    wire.response_format = body.responseFormat as RunCreateParamsNonStreaming['response_format'];
  }
  if (body.metadata !== undefined) wire.metadata = body.metadata;
  return wire as RunCreateParamsNonStreaming;
}

/** An assistant create or update: the fields present, explicit nulls kept. */
export function toAssistantParams(body: AssistantFields): AssistantUpdateParams {
  const wire: AssistantUpdateParams = {};
  if (body.name !== undefined) wire.name = body.name;
  if (body.description !== undefined) wire.description = body.description;
  if (body.model !== undefined) wire.model = body.model;
  if (body.instructions !== undefined) wire.instructions = body.instructions;
  if (body.tools !== undefined) wire.tools = body.tools as AssistantUpdateParams['tools'];
  if (body.metadata !== undefined) wire.metadata = body.metadata;
  if (body.temperature !== undefined) wire.temperature = body.temperature;
  if (body.topP !== undefined) wire.top_p = body.topP;
  return wire;
}

export function toAssistantCreate(body: AssistantFields): AssistantCreateParams {
  return toAssistantParams(body) as AssistantCreateParams;
}

/** The SDK's list query for runs and assistants: `after` only when there is one. */
export function listQuery(params: ListParams): ListParams {
  return params.after
    ? { limit: params.limit, order: params.order, after: params.after }
    : { limit: params.limit, order: params.order };
}

/** Tool outputs in the Threads API's wire shape. */
export function toToolOutputs(outputs: readonly ToolOutput[]): Array<{ tool_call_id: string; output: string }> {
  return outputs.map((output) => ({ tool_call_id: output.toolCallId, output: output.output }));
}
