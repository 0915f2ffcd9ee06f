import { isPlainObject } from '../../domain/thread-rules.ts';
import { REASONING_EFFORTS } from '../runs/run-rules.ts';
import type { CreateProblem } from './response-rules.ts';

/**
 * The create parameters of the API's description that change nothing a model server here is asked:
 * each is checked by its type, then echoed where the response object carries it (`user`,
 * `truncation`, `reasoning`, `max_tool_calls`) or left out (caching, safety and stream options,
 * `include`, `top_logprobs`). `prompt` (the retired Prompts objects), `moderation` and
 * `context_management` are refused as unsupported.
 */
export const OPTION_FIELDS = [
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'service_tier',
  'truncation',
  'reasoning',
  'max_tool_calls',
  'top_logprobs',
  'include',
  'stream_options',
  'prompt',
  'moderation',
  'context_management',
] as const;

const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority', 'fast', 'ultrafast'];
const SUMMARIES = ['auto', 'concise', 'detailed'];
const UNSUPPORTED: Record<string, string> = {
  prompt: 'reusable prompts were retired; send the instructions and input themselves',
  moderation: 'no moderation runs here',
  context_management: 'send the input to keep instead',
};

export interface ResponseOptions {
  user: string | null;
  truncation: 'auto' | 'disabled';
  reasoning: { effort: string | null; summary: string | null };
  max_tool_calls: number | null;
}

function problem(param: string, message: string, code?: string): CreateProblem {
  return { param, message: `${param}: ${message}`, ...(code ? { code } : {}) };
}

const isString = (value: unknown) => typeof value === 'string';
const oneOf = (allowed: readonly string[]) => (value: unknown) => typeof value === 'string' && allowed.includes(value);
const intIn = (min: number, max: number) => (value: unknown) =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** Each option's rule (null is always allowed: the API's default). */
const RULES: Record<string, { test: (value: unknown) => boolean; says: string }> = {
  user: { test: isString, says: 'must be a string' },
  safety_identifier: {
    test: (value) => isString(value) && (value as string).length <= 64,
    says: 'must be a string of at most 64 characters',
  },
  prompt_cache_key: { test: isString, says: 'must be a string' },
  prompt_cache_retention: { test: isString, says: 'must be a string' },
  prompt_cache_options: { test: isPlainObject, says: 'must be an object' },
  service_tier: { test: oneOf(SERVICE_TIERS), says: `must be one of ${SERVICE_TIERS.join(', ')}` },
  truncation: { test: oneOf(['auto', 'disabled']), says: "must be 'auto' or 'disabled'" },
  max_tool_calls: { test: intIn(0, Number.MAX_SAFE_INTEGER), says: 'must be a non-negative integer' },
  top_logprobs: { test: intIn(0, 20), says: 'must be an integer from 0 to 20' },
  include: { test: (value) => Array.isArray(value) && value.every(isString), says: 'must be an array of strings' },
  stream_options: {
    test: (value) =>
      isPlainObject(value) &&
      Object.entries(value).every(([key, flag]) => key === 'include_obfuscation' && typeof flag === 'boolean'),
    says: 'must be an object with a boolean include_obfuscation',
  },
};

function checkReasoning(value: unknown): CreateProblem | null {
  if (!isPlainObject(value)) return problem('reasoning', 'must be an object');
  for (const [key, field] of Object.entries(value)) {
    if (field === null) continue;
    if (key === 'effort' && !oneOf(REASONING_EFFORTS)(field))
      return problem('reasoning.effort', `must be one of ${REASONING_EFFORTS.join(', ')}`);
    if ((key === 'summary' || key === 'generate_summary') && !oneOf(SUMMARIES)(field)) {
      return problem(`reasoning.${key}`, `must be one of ${SUMMARIES.join(', ')}`);
    }
    if (!['effort', 'summary', 'generate_summary', 'mode', 'context'].includes(key)) {
      return problem(`reasoning.${key}`, 'unknown field', 'unknown_parameter');
    }
    if (!isString(field)) return problem(`reasoning.${key}`, 'must be a string');
  }
  return null;
}

/** The first problem of the create's options, or null. */
export function checkOptions(body: Record<string, unknown>): CreateProblem | null {
  for (const field of OPTION_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    const unsupported = UNSUPPORTED[field];
    if (unsupported) {
      return problem(field, `the local backend does not support this; ${unsupported}`, 'unsupported_parameter');
    }
    if (field === 'reasoning') {
      const found = checkReasoning(value);
      if (found) return found;
      continue;
    }
    const rule = RULES[field];
    if (rule && !rule.test(value)) return problem(field, rule.says);
  }
  return null;
}

/** What of the (checked) options the response object carries. */
export function responseOptions(body: Record<string, unknown>): ResponseOptions {
  const reasoning = isPlainObject(body.reasoning) ? body.reasoning : {};
  const summary = reasoning.summary ?? reasoning.generate_summary ?? null;
  return {
    user: (body.user as string | null | undefined) ?? null,
    truncation: body.truncation === 'auto' ? 'auto' : 'disabled',
    reasoning: { effort: (reasoning.effort as string | null | undefined) ?? null, summary: summary as string | null },
    max_tool_calls: (body.max_tool_calls as number | null | undefined) ?? null,
  };
}
