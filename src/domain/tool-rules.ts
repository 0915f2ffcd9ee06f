import { characters, isPlainObject, type RuleProblem } from './thread-rules.ts';

/**
 * The documented limits of runs and assistants (tools, instructions, tool outputs), as pure checks
 * in the manner of thread-rules.ts: each takes the name the caller knows the value by and returns a
 * problem naming it, or null. JSON nesting is bounded before any of these run (MAX_JSON_DEPTH, in
 * graphql/input-bounds.ts), so walking a value here is safe.
 */

/** Tools of one assistant (OpenAI's published API description: `maxItems: 128`). */
export const MAX_ASSISTANT_TOOLS = 128;
/** Tools a run is given for itself (the description: `maxItems: 20` on a run's `tools`). */
export const MAX_RUN_TOOLS = 20;
/** A function tool's `parameters` (a JSON Schema), as JSON. */
export const MAX_FUNCTION_PARAMETERS_BYTES = 64 * 1024;
/** Instructions and additional instructions, in characters (code points). */
export const MAX_INSTRUCTIONS_CHARACTERS = 256_000;
/** One tool output, in UTF-8 bytes. */
export const MAX_TOOL_OUTPUT_BYTES = 512 * 1024;
export const MAX_ASSISTANT_NAME_CHARACTERS = 256;
export const MAX_ASSISTANT_DESCRIPTION_CHARACTERS = 512;
export const TOOL_TYPES = ['code_interpreter', 'file_search', 'function'] as const;
/** The API's rule for function names. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function problem(param: string, message: string): RuleProblem {
  return { param, message: `${param}: ${message}` };
}

/** `tools` in the Threads API's shape: at most `max` of `{type: code_interpreter | file_search | function}`. */
export function checkTools(value: unknown, param: string, max: number): RuleProblem | null {
  if (!Array.isArray(value)) return problem(param, 'must be an array of tools');
  if (value.length > max) return problem(param, `may hold at most ${max} tools, got ${value.length}`);
  for (const [index, tool] of value.entries()) {
    const at = `${param}[${index}]`;
    if (!isPlainObject(tool)) return problem(at, 'must be an object');
    if (!(TOOL_TYPES as readonly unknown[]).includes(tool.type)) {
      return problem(`${at}.type`, `must be one of ${TOOL_TYPES.join(', ')}`);
    }
    if (tool.type !== 'function') continue;
    const fn = tool.function;
    if (!isPlainObject(fn)) return problem(`${at}.function`, 'must be an object with a name');
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
      return problem(`${at}.function.name`, 'must be 1 to 64 characters from A-Z, a-z, 0-9, "_" and "-"');
    }
    if (fn.parameters !== undefined) {
      if (!isPlainObject(fn.parameters)) return problem(`${at}.function.parameters`, 'must be a JSON Schema object');
      const bytes = Buffer.byteLength(JSON.stringify(fn.parameters), 'utf8');
      if (bytes > MAX_FUNCTION_PARAMETERS_BYTES) {
        return problem(
          `${at}.function.parameters`,
          `is ${bytes} bytes as JSON, more than the ${MAX_FUNCTION_PARAMETERS_BYTES} a function's parameters may be`,
        );
      }
    }
  }
  return null;
}

/** Instructions of a run or an assistant: at most 256,000 characters. */
export function checkInstructions(value: string, param: string): RuleProblem | null {
  return checkLength(value, param, MAX_INSTRUCTIONS_CHARACTERS);
}

/** A string of at most `max` characters (code points). */
export function checkLength(value: string, param: string, max: number): RuleProblem | null {
  // Past the cap in UTF-16 units already means nothing; count code points only near it.
  if (value.length <= max) return null;
  const count = characters(value);
  return count > max ? problem(param, `holds ${count} characters, more than the ${max} it may hold`) : null;
}

/** One tool output: at most 512 KB as UTF-8. */
export function checkToolOutput(value: string, param: string): RuleProblem | null {
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > MAX_TOOL_OUTPUT_BYTES
    ? problem(param, `is ${bytes} bytes, more than the ${MAX_TOOL_OUTPUT_BYTES} one tool output may be`)
    : null;
}
