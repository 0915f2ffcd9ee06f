import {
  characters,
  checkMetadata,
  checkToolResources,
  isPlainObject,
  type RuleProblem,
} from '../../domain/thread-rules.ts';

/**
 * The documented limits of runs and assistants, as pure checks in the style of thread-rules.ts:
 * each returns a problem naming the field (the route answers 400 with it) or null.
 */

/** Tools one assistant takes. */
export const MAX_TOOLS = 128;
/** Tools one run takes (its own, or its assistant's when it names none). */
export const MAX_RUN_TOOLS = 20;
/** The API's reasoning efforts (`ReasoningEffort`). */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];
/** Bytes of one function's `parameters` JSON schema. */
export const MAX_FUNCTION_PARAMETERS_BYTES = 64 * 1024;
/** Characters of `instructions` (and of `additional_instructions`). */
export const MAX_INSTRUCTIONS_CHARACTERS = 256_000;
/** Bytes of one submitted tool output. */
export const MAX_TOOL_OUTPUT_BYTES = 512 * 1024;
export const MAX_NAME_CHARACTERS = 256;
export const MAX_DESCRIPTION_CHARACTERS = 512;
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

type Check = RuleProblem | null;

function problem(param: string, message: string): RuleProblem {
  return { param, message: `${param}: ${message}` };
}

function unknownKey(value: Record<string, unknown>, allowed: readonly string[], param: string): Check {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? null : problem(`${param}.${extra}`, 'unknown field');
}

/** A nullable string of at most `max` characters. */
export function checkText(value: unknown, param: string, max: number): Check {
  if (value == null) return null;
  if (typeof value !== 'string') return problem(param, 'must be a string');
  return characters(value) > max ? problem(param, `must be at most ${max} characters`) : null;
}

export function checkNumber(value: unknown, param: string, min: number, max: number): Check {
  if (value == null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    return problem(param, `must be a number from ${min} to ${max}`);
  }
  return null;
}

export function checkPositiveInteger(value: unknown, param: string): Check {
  if (value == null) return null;
  return Number.isSafeInteger(value) && (value as number) >= 1 ? null : problem(param, 'must be a positive integer');
}

/** `max_prompt_tokens` / `max_completion_tokens`: the API takes no budget under 256 tokens. */
export const MIN_TOKEN_BUDGET = 256;

export function checkTokenBudget(value: unknown, param: string): Check {
  if (value == null) return null;
  if (!Number.isSafeInteger(value)) return problem(param, 'must be an integer');
  return (value as number) >= MIN_TOKEN_BUDGET
    ? null
    : problem(param, `integer below minimum value. Expected a value >= ${MIN_TOKEN_BUDGET}, but got ${value} instead.`);
}

export function checkModel(value: unknown, param: string): Check {
  return typeof value === 'string' && value.length > 0 && value.length <= 256
    ? null
    : problem(param, 'must be a model name (a non-empty string)');
}

function checkFunction(fn: unknown, param: string): Check {
  if (!isPlainObject(fn)) return problem(param, 'must be an object');
  const extra = unknownKey(fn, ['name', 'description', 'parameters', 'strict'], param);
  if (extra) return extra;
  if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
    return problem(`${param}.name`, 'must be 1 to 64 characters from a-z, A-Z, 0-9, "_" and "-"');
  }
  if (fn.description != null && typeof fn.description !== 'string') {
    return problem(`${param}.description`, 'must be a string');
  }
  if (fn.parameters != null) {
    if (!isPlainObject(fn.parameters)) return problem(`${param}.parameters`, 'must be a JSON Schema object');
    if (Buffer.byteLength(JSON.stringify(fn.parameters)) > MAX_FUNCTION_PARAMETERS_BYTES) {
      return problem(`${param}.parameters`, `must be at most ${MAX_FUNCTION_PARAMETERS_BYTES} bytes of JSON`);
    }
  }
  return fn.strict == null || typeof fn.strict === 'boolean' ? null : problem(`${param}.strict`, 'must be a boolean');
}

/** `file_search`'s overrides: at most 50 results, and a ranker with its score threshold. */
function checkFileSearch(value: unknown, param: string): Check {
  if (value == null) return null;
  if (!isPlainObject(value)) return problem(param, 'must be an object');
  const extra = unknownKey(value, ['max_num_results', 'ranking_options'], param);
  if (extra) return extra;
  const results = value.max_num_results;
  if (results != null && !(Number.isSafeInteger(results) && (results as number) >= 1 && (results as number) <= 50)) {
    return problem(`${param}.max_num_results`, 'must be an integer from 1 to 50');
  }
  const ranking = value.ranking_options;
  if (ranking == null) return null;
  if (!isPlainObject(ranking)) return problem(`${param}.ranking_options`, 'must be an object');
  const at = `${param}.ranking_options`;
  if (ranking.ranker != null && ranking.ranker !== 'auto' && ranking.ranker !== 'default_2024_08_21') {
    return problem(`${at}.ranker`, "must be 'auto' or 'default_2024_08_21'");
  }
  const threshold = ranking.score_threshold;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    return problem(`${at}.score_threshold`, 'must be a number from 0 to 1');
  }
  return unknownKey(ranking, ['ranker', 'score_threshold'], at);
}

export function checkTools(value: unknown, param: string, max = MAX_TOOLS): Check {
  if (value == null) return null;
  if (!Array.isArray(value)) return problem(param, 'must be an array');
  if (value.length > max) return problem(param, `must have at most ${max} tools`);
  for (const [index, tool] of value.entries()) {
    const at = `${param}[${index}]`;
    if (!isPlainObject(tool)) return problem(at, 'must be an object');
    if (tool.type === 'code_interpreter') {
      const extra = unknownKey(tool, ['type'], at);
      if (extra) return extra;
    } else if (tool.type === 'file_search') {
      const extra = unknownKey(tool, ['type', 'file_search'], at);
      if (extra) return extra;
      const found = checkFileSearch(tool.file_search, `${at}.file_search`);
      if (found) return found;
    } else if (tool.type === 'function') {
      const found = unknownKey(tool, ['type', 'function'], at) ?? checkFunction(tool.function, `${at}.function`);
      if (found) return found;
    } else {
      return problem(`${at}.type`, "must be one of 'code_interpreter', 'file_search', 'function'");
    }
  }
  return null;
}

export function checkToolChoice(value: unknown, param: string): Check {
  if (value == null || value === 'none' || value === 'auto' || value === 'required') return null;
  if (!isPlainObject(value)) return problem(param, "must be 'none', 'auto', 'required' or a tool");
  if (value.type === 'code_interpreter' || value.type === 'file_search') return unknownKey(value, ['type'], param);
  if (value.type !== 'function')
    return problem(`${param}.type`, "must be 'function', 'code_interpreter' or 'file_search'");
  const fn = value.function;
  if (!isPlainObject(fn) || typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
    return problem(`${param}.function.name`, 'must name a function');
  }
  return unknownKey(value, ['type', 'function'], param);
}

export function checkResponseFormat(value: unknown, param: string): Check {
  if (value == null || value === 'auto') return null;
  if (!isPlainObject(value)) return problem(param, "must be 'auto' or an object with a type");
  if (value.type === 'text' || value.type === 'json_object') return unknownKey(value, ['type'], param);
  if (value.type !== 'json_schema') return problem(`${param}.type`, "must be 'text', 'json_object' or 'json_schema'");
  const schema = value.json_schema;
  const at = `${param}.json_schema`;
  if (!isPlainObject(schema) || typeof schema.name !== 'string' || !FUNCTION_NAME.test(schema.name)) {
    return problem(`${at}.name`, 'must be 1 to 64 characters from a-z, A-Z, 0-9, "_" and "-"');
  }
  if (schema.description != null && typeof schema.description !== 'string') {
    return problem(`${at}.description`, 'must be a string');
  }
  if (schema.schema != null && !isPlainObject(schema.schema))
    return problem(`${at}.schema`, 'must be a JSON Schema object');
  if (schema.strict != null && typeof schema.strict !== 'boolean') return problem(`${at}.strict`, 'must be a boolean');
  return (
    unknownKey(value, ['type', 'json_schema'], param) ??
    unknownKey(schema, ['name', 'description', 'schema', 'strict'], at)
  );
}

/** `reasoning_effort`: one of the API's efforts, or null. */
export function checkReasoningEffort(value: unknown, param: string): Check {
  if (value == null) return null;
  return typeof value === 'string' && REASONING_EFFORTS.includes(value)
    ? null
    : problem(param, `must be one of ${REASONING_EFFORTS.join(', ')}`);
}

export function checkTruncation(value: unknown, param: string): Check {
  if (value == null) return null;
  if (!isPlainObject(value)) return problem(param, 'must be an object');
  if (value.type !== 'auto' && value.type !== 'last_messages') {
    return problem(`${param}.type`, "must be 'auto' or 'last_messages'");
  }
  return (
    unknownKey(value, ['type', 'last_messages'], param) ??
    checkPositiveInteger(value.last_messages, `${param}.last_messages`)
  );
}

/** The fields an assistant create or modify may carry, each checked. */
export function checkAssistantFields(body: Record<string, unknown>): Check {
  return (
    (body.model === undefined ? null : checkModel(body.model, 'model')) ??
    checkText(body.name, 'name', MAX_NAME_CHARACTERS) ??
    checkText(body.description, 'description', MAX_DESCRIPTION_CHARACTERS) ??
    checkText(body.instructions, 'instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkTools(body.tools, 'tools') ??
    (body.tool_resources == null ? null : checkToolResources(body.tool_resources, 'tool_resources')) ??
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    checkNumber(body.temperature, 'temperature', 0, 2) ??
    checkNumber(body.top_p, 'top_p', 0, 1) ??
    checkResponseFormat(body.response_format, 'response_format') ??
    checkReasoningEffort(body.reasoning_effort, 'reasoning_effort')
  );
}

/** `submit_tool_outputs`' list: `{tool_call_id, output}` each, outputs of at most 512 KB. */
export function checkToolOutputs(value: unknown, param: string): Check {
  if (!Array.isArray(value)) return problem(param, 'must be an array');
  for (const [index, output] of value.entries()) {
    const at = `${param}[${index}]`;
    if (!isPlainObject(output)) return problem(at, 'must be an object');
    const extra = unknownKey(output, ['tool_call_id', 'output'], at);
    if (extra) return extra;
    if (typeof output.tool_call_id !== 'string') return problem(`${at}.tool_call_id`, 'must be a string');
    if (typeof output.output !== 'string') return problem(`${at}.output`, 'must be a string');
    if (Buffer.byteLength(output.output) > MAX_TOOL_OUTPUT_BYTES) {
      return problem(`${at}.output`, `must be at most ${MAX_TOOL_OUTPUT_BYTES} bytes`);
    }
  }
  return null;
}
