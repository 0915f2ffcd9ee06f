import { checkMessageItem, fromConversationParts } from '../../domain/conversation-items.ts';
import {
  checkMetadata,
  isPlainObject,
  MESSAGE_CONTENT_MAX_CHARACTERS,
  type RuleProblem,
} from '../../domain/thread-rules.ts';
import {
  checkModel,
  checkNumber,
  checkText,
  MAX_FUNCTION_PARAMETERS_BYTES,
  MAX_INSTRUCTIONS_CHARACTERS,
  MAX_TOOL_OUTPUT_BYTES,
  MAX_TOOLS,
} from '../runs/run-rules.ts';
import type { ResponseFunctionTool } from '../store/response-store.ts';
import type { NewStoredMessage } from '../store/store.ts';
import { checkOptions, OPTION_FIELDS, type ResponseOptions, responseOptions } from './response-options.ts';
import { functionCallMessage, functionCallOutputMessage, toolCallOf } from './tool-call-items.ts';

/**
 * `POST /v1/responses` bodies: the fields the local backend serves, each checked as the API checks
 * it (a problem naming the field, answered 400), and the request they make.
 */

export const CREATE_FIELDS = [
  'model',
  'conversation',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'temperature',
  'top_p',
  'max_output_tokens',
  'text',
  'metadata',
  'background',
  'store',
  'stream',
  'previous_response_id',
  ...OPTION_FIELDS,
] as const;

/** Items one `input` array may hold (the body limit bounds it too). */
export const MAX_INPUT_ITEMS = 1000;
/** The API's smallest `max_output_tokens`. */
export const MIN_OUTPUT_TOKENS = 16;
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CALL_ID = /^[\s\S]{1,64}$/;

export interface ResponseCreate {
  model: string;
  conversationId: string | null;
  input: NewStoredMessage[];
  instructions: string | null;
  tools: ResponseFunctionTool[];
  tool_choice: unknown;
  parallel_tool_calls: boolean;
  temperature: number;
  top_p: number;
  max_output_tokens: number | null;
  text: { format: Record<string, unknown> };
  metadata: Record<string, string>;
  background: boolean;
  /** Answer the response's stream events (server-sent events) instead of the response. */
  stream: boolean;
  /** The options the response object echoes (response-options.ts). */
  options: ResponseOptions;
}

/** A problem with the status and code it is answered with (400 `invalid_request_error` unless said). */
export type CreateProblem = RuleProblem & { code?: string };

function problem(param: string, message: string, code?: string): CreateProblem {
  return { param, message: `${param}: ${message}`, ...(code ? { code } : {}) };
}

function unknownKey(value: Record<string, unknown>, allowed: readonly string[], param: string): CreateProblem | null {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? null : problem(`${param}.${extra}`, 'unknown field', 'unknown_parameter');
}

function unsupported(param: string, message: string): CreateProblem {
  return problem(param, `the local backend does not support this yet; ${message}`, 'unsupported_parameter');
}

function checkFunctionTool(tool: unknown, param: string): CreateProblem | null {
  if (!isPlainObject(tool)) return problem(param, 'must be an object');
  if (tool.type !== 'function') return problem(`${param}.type`, "only 'function' tools are supported by this server");
  const extra = unknownKey(tool, ['type', 'name', 'description', 'parameters', 'strict'], param);
  if (extra) return extra;
  if (typeof tool.name !== 'string' || !FUNCTION_NAME.test(tool.name)) {
    return problem(`${param}.name`, 'must be 1 to 64 characters from a-z, A-Z, 0-9, "_" and "-"');
  }
  if (tool.description != null && typeof tool.description !== 'string') {
    return problem(`${param}.description`, 'must be a string');
  }
  if (tool.parameters != null) {
    if (!isPlainObject(tool.parameters)) return problem(`${param}.parameters`, 'must be a JSON Schema object');
    if (Buffer.byteLength(JSON.stringify(tool.parameters)) > MAX_FUNCTION_PARAMETERS_BYTES) {
      return problem(`${param}.parameters`, `must be at most ${MAX_FUNCTION_PARAMETERS_BYTES} bytes of JSON`);
    }
  }
  return tool.strict == null || typeof tool.strict === 'boolean'
    ? null
    : problem(`${param}.strict`, 'must be a boolean');
}

function checkToolChoice(value: unknown): CreateProblem | null {
  if (value == null || value === 'none' || value === 'auto' || value === 'required') return null;
  if (!isPlainObject(value) || value.type !== 'function') {
    return problem('tool_choice', "must be 'none', 'auto', 'required' or {type: 'function', name}");
  }
  if (typeof value.name !== 'string' || !FUNCTION_NAME.test(value.name)) {
    return problem('tool_choice.name', 'must name a function');
  }
  return unknownKey(value, ['type', 'name'], 'tool_choice');
}

function checkTextParam(value: unknown): CreateProblem | null {
  if (value == null) return null;
  if (!isPlainObject(value)) return problem('text', 'must be an object');
  const extra = unknownKey(value, ['format', 'verbosity'], 'text');
  if (extra) return extra;
  const format = value.format;
  if (format == null) return null;
  if (!isPlainObject(format)) return problem('text.format', 'must be an object with a type');
  if (format.type === 'text' || format.type === 'json_object') return unknownKey(format, ['type'], 'text.format');
  if (format.type !== 'json_schema') {
    return problem('text.format.type', "must be 'text', 'json_object' or 'json_schema'");
  }
  if (typeof format.name !== 'string' || !FUNCTION_NAME.test(format.name)) {
    return problem('text.format.name', 'must be 1 to 64 characters from a-z, A-Z, 0-9, "_" and "-"');
  }
  if (!isPlainObject(format.schema)) return problem('text.format.schema', 'must be a JSON Schema object');
  return unknownKey(format, ['type', 'name', 'schema', 'description', 'strict'], 'text.format');
}

function checkOutput(value: unknown, param: string): CreateProblem | null {
  if (typeof value === 'string') {
    return Buffer.byteLength(value) > MAX_TOOL_OUTPUT_BYTES
      ? problem(param, `must be at most ${MAX_TOOL_OUTPUT_BYTES} bytes`)
      : null;
  }
  if (!Array.isArray(value)) return problem(param, 'must be a string or an array of input_text parts');
  for (const [index, part] of value.entries()) {
    if (!isPlainObject(part) || part.type !== 'input_text' || typeof part.text !== 'string') {
      return problem(`${param}[${index}]`, "only {type: 'input_text', text} parts are supported by this server");
    }
  }
  return Buffer.byteLength(JSON.stringify(value)) > MAX_TOOL_OUTPUT_BYTES
    ? problem(param, `must be at most ${MAX_TOOL_OUTPUT_BYTES} bytes`)
    : null;
}

/** One input item as the stored message it becomes, or the problem with it. */
function inputItem(item: unknown, param: string): NewStoredMessage | CreateProblem {
  if (!isPlainObject(item)) return problem(param, 'must be an object');
  if (item.type === 'function_call' || item.type === 'function_call_output') {
    const allowed =
      item.type === 'function_call'
        ? ['type', 'id', 'status', 'call_id', 'name', 'arguments']
        : ['type', 'id', 'status', 'call_id', 'output'];
    const extra = unknownKey(item, allowed, param);
    if (extra) return extra;
    if (typeof item.call_id !== 'string' || !CALL_ID.test(item.call_id)) {
      return problem(`${param}.call_id`, 'must be a string of 1 to 64 characters');
    }
    if (item.type === 'function_call_output') {
      const bad = checkOutput(item.output, `${param}.output`);
      if (bad) return bad;
      return functionCallOutputMessage({ call_id: item.call_id, output: item.output as string | unknown[] });
    }
    if (typeof item.name !== 'string' || !FUNCTION_NAME.test(item.name)) {
      return problem(`${param}.name`, 'must be 1 to 64 characters from a-z, A-Z, 0-9, "_" and "-"');
    }
    if (typeof item.arguments !== 'string' || item.arguments.length > MESSAGE_CONTENT_MAX_CHARACTERS) {
      return problem(`${param}.arguments`, `must be a string of at most ${MESSAGE_CONTENT_MAX_CHARACTERS} characters`);
    }
    return functionCallMessage({ call_id: item.call_id, name: item.name, arguments: item.arguments });
  }
  if (item.type !== undefined && item.type !== 'message') {
    return problem(`${param}.type`, 'must be one of message, function_call, function_call_output');
  }
  const found = checkMessageItem(item, param);
  if (found) return found;
  return { role: String(item.role), content: fromConversationParts(item.content), attachments: null, metadata: {} };
}

function inputItems(value: unknown): NewStoredMessage[] | CreateProblem {
  if (value == null) return [];
  if (typeof value === 'string') {
    if (value === '') return problem('input', 'must not be empty');
    const found = checkMessageItem({ role: 'user', content: value }, 'input');
    if (found) return found;
    return [{ role: 'user', content: fromConversationParts(value), attachments: null, metadata: {} }];
  }
  if (!Array.isArray(value)) return problem('input', 'must be a string or an array of items');
  if (value.length > MAX_INPUT_ITEMS) {
    return problem('input', `may hold at most ${MAX_INPUT_ITEMS} items, got ${value.length}`, 'array_above_max_length');
  }
  const messages: NewStoredMessage[] = [];
  for (const [index, item] of value.entries()) {
    const message = inputItem(item, `input[${index}]`);
    if (!('role' in message)) return message;
    messages.push(message);
  }
  return messages;
}

function conversationId(value: unknown): string | null | CreateProblem {
  if (value == null) return null;
  const id = isPlainObject(value) ? value.id : value;
  if (isPlainObject(value)) {
    const extra = unknownKey(value, ['id'], 'conversation');
    if (extra) return extra;
  }
  if (typeof id !== 'string' || id === '') return problem('conversation', 'must be a conversation id or {id}');
  return id;
}

function normalTool(tool: Record<string, unknown>): ResponseFunctionTool {
  return {
    type: 'function',
    name: String(tool.name),
    description: typeof tool.description === 'string' ? tool.description : null,
    parameters: isPlainObject(tool.parameters) ? tool.parameters : null,
    strict: typeof tool.strict === 'boolean' ? tool.strict : true,
  };
}

/** A create body as the request it makes, or the first problem with it. */
export function parseResponseCreate(body: Record<string, unknown>): ResponseCreate | CreateProblem {
  const extra = Object.keys(body).find((key) => !(CREATE_FIELDS as readonly string[]).includes(key));
  if (extra !== undefined) {
    return { param: extra, message: `Unknown parameter: '${extra}'.`, code: 'unknown_parameter' };
  }
  if (body.previous_response_id != null) {
    return unsupported('previous_response_id', 'keep the context in a conversation instead');
  }
  if (body.store != null && body.store !== true) {
    return unsupported('store', 'every response is stored');
  }
  if (body.model === undefined) {
    return { param: 'model', message: "Missing required parameter: 'model'.", code: 'missing_required_parameter' };
  }
  for (const flag of ['background', 'parallel_tool_calls', 'stream'] as const) {
    if (body[flag] != null && typeof body[flag] !== 'boolean') return problem(flag, 'must be a boolean');
  }
  const tools = body.tools ?? [];
  if (!Array.isArray(tools)) return problem('tools', 'must be an array');
  if (tools.length > MAX_TOOLS) return problem('tools', `must have at most ${MAX_TOOLS} tools`);
  for (const [index, tool] of tools.entries()) {
    const found = checkFunctionTool(tool, `tools[${index}]`);
    if (found) return found;
  }
  const maxOutput = body.max_output_tokens;
  if (maxOutput != null && !(Number.isSafeInteger(maxOutput) && (maxOutput as number) >= MIN_OUTPUT_TOKENS)) {
    return problem('max_output_tokens', `must be an integer of at least ${MIN_OUTPUT_TOKENS}`);
  }
  const found =
    checkModel(body.model, 'model') ??
    checkText(body.instructions, 'instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkToolChoice(body.tool_choice) ??
    checkNumber(body.temperature, 'temperature', 0, 2) ??
    checkNumber(body.top_p, 'top_p', 0, 1) ??
    checkTextParam(body.text) ??
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    checkOptions(body);
  if (found) return found;
  const conversation = conversationId(body.conversation);
  if (conversation !== null && typeof conversation !== 'string') return conversation;
  const input = inputItems(body.input);
  if (!Array.isArray(input)) return input;
  const text = body.text as { format?: Record<string, unknown> | null } | null | undefined;
  return {
    model: String(body.model),
    conversationId: conversation,
    input,
    instructions: (body.instructions as string | null | undefined) ?? null,
    tools: (tools as Array<Record<string, unknown>>).map(normalTool),
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: (body.parallel_tool_calls as boolean | null | undefined) ?? true,
    temperature: (body.temperature as number | null | undefined) ?? 1,
    top_p: (body.top_p as number | null | undefined) ?? 1,
    max_output_tokens: (maxOutput as number | null | undefined) ?? null,
    text: { format: text?.format ?? { type: 'text' } },
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
    background: (body.background as boolean | null | undefined) ?? false,
    stream: (body.stream as boolean | null | undefined) ?? false,
    options: responseOptions(body),
  };
}

/**
 * Each `function_call_output` must answer a call the model can see: one earlier in the input, or
 * in the conversation (`context`). The API answers 400 otherwise, and a model server would too.
 */
export function unansweredOutput(
  input: readonly NewStoredMessage[],
  context: readonly Pick<NewStoredMessage, 'content'>[],
): CreateProblem | null {
  const calls = new Set<string>();
  for (const message of context) {
    const part = toolCallOf(message);
    if (part?.type === 'function_call') calls.add(part.call_id);
  }
  for (const [index, message] of input.entries()) {
    const part = toolCallOf(message);
    if (part?.type === 'function_call') calls.add(part.call_id);
    if (part?.type === 'function_call_output' && !calls.has(part.call_id)) {
      return {
        param: `input[${index}].call_id`,
        message: `No tool call found for function call output with call_id ${part.call_id}.`,
      };
    }
  }
  return null;
}
