import type { Thread } from 'openai/resources/beta/threads/threads';
import type { Assistant } from '../domain/assistant.ts';
import { depthBeyond } from '../domain/json-depth.ts';
import { isRunStatus, type Run, type RunToolCall, type RunUsage } from '../domain/run.ts';
import { isPlainObject, THREAD_ID_PATTERN } from '../domain/thread-rules.ts';
import { UpstreamShapeError } from './calls/faults.ts';
import type { MessagePart, UpstreamMessage } from './upstream-api.ts';

/**
 * Answers are checked, never trusted: an object whose id is not the one asked for, a timestamp that
 * cannot be read as seconds, or a field of the wrong type is an `UpstreamShapeError`
 * (`UPSTREAM_ERROR`), so only the asked id ever reaches a client's normalised cache. Every adapter
 * normalises through these, so the graph sees one shape whatever the upstream's dialect.
 */

/** GraphQL's Int is 32-bit signed: Unix seconds past 2038-01-19 cannot be served as `Int!`. */
const MAX_INT = 2_147_483_647;
const MIN_INT = -2_147_483_648;
/** Above this a timestamp is in milliseconds (10^11 seconds is the year 5138). */
const MILLISECONDS_ABOVE = 1e11;

/** Unix seconds from seconds, milliseconds or a float of either; undefined when unreadable. */
export function toUnixSeconds(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const seconds = Math.floor(Math.abs(value) > MILLISECONDS_ABOVE ? value / 1000 : value);
  return seconds >= MIN_INT && seconds <= MAX_INT ? seconds : undefined;
}

function seconds(value: unknown, what: string): number {
  const read = toUnixSeconds(value);
  if (read === undefined) throw new UpstreamShapeError(`${what}.created_at is not a timestamp the gateway can serve`);
  return read;
}

/**
 * Deeper than any object the APIs document (a message with annotations is under 10 levels). The
 * graph passes `tool_resources`, annotations and attachments through as JSON, and a value nested
 * tens of thousands deep overflows the stack when the response is written: a masked error for the
 * whole response instead of one coded error where the bad object is.
 */
const MAX_ANSWER_DEPTH = 64;

/** An upstream object as one the graph can serve, or UpstreamShapeError. */
export function assertServable(value: unknown, what: string): void {
  if (depthBeyond(value, MAX_ANSWER_DEPTH)) throw new UpstreamShapeError(`${what} nests deeper than any API object`);
}

/**
 * An id the upstream gave, checked against the shape the gateway takes ids in (1–128 of
 * `[A-Za-z0-9_-]`): an id such as `../../x?y=1&z` or 5,000 characters long would be served, then
 * refused in the cursors and arguments made from it, or put into the next upstream path or query.
 */
export function servableId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new UpstreamShapeError(`${what} has no id`);
  if (!THREAD_ID_PATTERN.test(value)) throw new UpstreamShapeError(`${what} id is not an id the gateway can serve`);
  return value;
}

function sameId(value: unknown, expected: string | undefined, what: string): string {
  servableId(value, what);
  if (expected !== undefined && value !== expected) {
    throw new UpstreamShapeError(`${what} id is not the one asked for`);
  }
  return value as string;
}

function stringOrNull(value: unknown, what: string): string | null {
  if (value == null) return null;
  if (typeof value !== 'string') throw new UpstreamShapeError(`${what} is not a string`);
  return value;
}

function metadata(value: unknown, what: string): Record<string, string> {
  if (value == null) return {};
  if (!isPlainObject(value)) throw new UpstreamShapeError(`${what}.metadata is not an object`);
  const entries = Object.entries(value);
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') throw new UpstreamShapeError(`${what}.metadata.${key} is not a string`);
  }
  // fromEntries defines each key, so a `__proto__` key is kept (an assignment would drop it).
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A thread as the graph serves it; `expectedId` when a specific thread was asked for. */
export function normaliseThread(value: unknown, expectedId?: string): Thread {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not a thread object');
  assertServable(value, 'thread');
  const toolResources = value.tool_resources;
  if (toolResources != null && !isPlainObject(toolResources)) {
    throw new UpstreamShapeError('thread.tool_resources is not an object');
  }
  return {
    id: sameId(value.id, expectedId, 'thread'),
    object: 'thread',
    created_at: seconds(value.created_at, 'thread'),
    metadata: metadata(value.metadata, 'thread'),
    tool_resources: (toolResources ?? null) as Thread['tool_resources'],
  };
}

/**
 * A delete's answer: `{id, deleted}` (`object: "thread.deleted"` or `"thread.message.deleted"`).
 * Some Threads-compatible servers answer a delete with the deleted object itself: that is a delete.
 */
export function normaliseDeleted(value: unknown, expectedId: string, what: string): { id: string; deleted: boolean } {
  if (!isPlainObject(value)) throw new UpstreamShapeError(`not a ${what} deletion object`);
  const id = sameId(value.id, expectedId, what);
  if (typeof value.deleted === 'boolean') return { id, deleted: value.deleted };
  if (value.deleted === undefined && value.object === what) return { id, deleted: true };
  throw new UpstreamShapeError(`not a ${what} deletion object`);
}

function detail(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * One content part as the graph serves it, or null for a part type the gateway does not know
 * (skipped, so a new upstream part type never fails the message). A known type with the wrong
 * fields is an upstream error.
 */
export function normalisePart(part: unknown): MessagePart | null {
  if (!isPlainObject(part)) throw new UpstreamShapeError('a content part is not an object');
  switch (part.type) {
    case 'text': {
      const text = part.text;
      if (typeof text === 'string') return { type: 'text', text: { value: text, annotations: [] } };
      if (!isPlainObject(text) || typeof text.value !== 'string') {
        throw new UpstreamShapeError('a text part has no text.value');
      }
      return {
        type: 'text',
        text: { value: text.value, annotations: Array.isArray(text.annotations) ? text.annotations : [] },
      };
    }
    case 'image_file': {
      const file = part.image_file;
      if (!isPlainObject(file) || typeof file.file_id !== 'string') {
        throw new UpstreamShapeError('an image_file part has no image_file.file_id');
      }
      return { type: 'image_file', image_file: { file_id: file.file_id, detail: detail(file.detail) } };
    }
    case 'image_url': {
      const image = part.image_url;
      if (!isPlainObject(image) || typeof image.url !== 'string') {
        throw new UpstreamShapeError('an image_url part has no image_url.url');
      }
      return { type: 'image_url', image_url: { url: image.url, detail: detail(image.detail) } };
    }
    case 'refusal':
      if (typeof part.refusal !== 'string') throw new UpstreamShapeError('a refusal part has no refusal');
      return { type: 'refusal', refusal: part.refusal };
    default:
      return null;
  }
}

/** A Threads API message, checked against the thread (and message) asked for. */
export function normaliseMessage(value: unknown, threadId: string, expectedId?: string): UpstreamMessage {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not a message object');
  assertServable(value, 'message');
  const id = sameId(value.id, expectedId, 'message');
  // Some servers leave thread_id out of message objects; one that names another thread is wrong.
  if (value.thread_id !== undefined && value.thread_id !== threadId) {
    throw new UpstreamShapeError('message belongs to another thread');
  }
  if (typeof value.role !== 'string') throw new UpstreamShapeError('message.role is not a string');
  const content = typeof value.content === 'string' ? [{ type: 'text', text: value.content }] : value.content;
  if (!Array.isArray(content)) throw new UpstreamShapeError('message.content is not an array');
  const attachments = value.attachments;
  if (attachments != null && !Array.isArray(attachments)) {
    throw new UpstreamShapeError('message.attachments is not an array');
  }
  return {
    id,
    thread_id: threadId,
    created_at: value.created_at == null ? null : seconds(value.created_at, 'message'),
    role: value.role,
    content: content.map(normalisePart).filter((part): part is MessagePart => part !== null),
    attachments: attachments ?? null,
    metadata: metadata(value.metadata, 'message'),
    status: stringOrNull(value.status, 'message.status'),
    assistant_id: stringOrNull(value.assistant_id, 'message.assistant_id'),
    run_id: stringOrNull(value.run_id, 'message.run_id'),
  };
}

/**
 * Whether a list gives an id it already gave (`seen`: the cursor it was asked to start after, and
 * what earlier pages of the same read gave); records the new ones. Such a list goes in circles:
 * read on, it would never end, and served, a client's cache would hold one message twice.
 */
export function repeatsAnId(ids: Iterable<string>, seen: Set<string>): boolean {
  for (const id of ids) {
    if (seen.has(id)) return true;
    seen.add(id);
  }
  return false;
}

/** Unix seconds, or null when the upstream left the field out (a dialect without it). */
function secondsOrNull(value: unknown, what: string): number | null {
  if (value == null) return null;
  const read = toUnixSeconds(value);
  if (read === undefined) throw new UpstreamShapeError(`${what} is not a timestamp the gateway can serve`);
  return read;
}

function arrayOrEmpty(value: unknown, what: string): unknown[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new UpstreamShapeError(`${what} is not an array`);
  return value;
}

function numberOrNull(value: unknown, what: string): number | null {
  if (value == null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UpstreamShapeError(`${what} is not a number`);
  return value;
}

/** A count GraphQL's Int can carry: an integer from 0 to 2^31 - 1. */
function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_INT) {
    throw new UpstreamShapeError(`${what} is not a count`);
  }
  return value;
}

function runUsage(value: unknown): RunUsage | null {
  if (value == null) return null;
  if (!isPlainObject(value)) throw new UpstreamShapeError('run.usage is not an object');
  return {
    promptTokens: count(value.prompt_tokens, 'run.usage.prompt_tokens'),
    completionTokens: count(value.completion_tokens, 'run.usage.completion_tokens'),
    totalTokens: count(value.total_tokens, 'run.usage.total_tokens'),
  };
}

/** The function calls of `required_action.submit_tool_outputs.tool_calls`. */
function requiredToolCalls(value: unknown): RunToolCall[] {
  if (value == null) throw new UpstreamShapeError('a run that requires action has no required_action');
  if (!isPlainObject(value) || !isPlainObject(value.submit_tool_outputs)) {
    throw new UpstreamShapeError('run.required_action is not a submit_tool_outputs action');
  }
  const calls = value.submit_tool_outputs.tool_calls;
  if (!Array.isArray(calls) || calls.length === 0) {
    throw new UpstreamShapeError('run.required_action has no tool calls');
  }
  return calls.map((call) => {
    if (!isPlainObject(call) || !isPlainObject(call.function)) {
      throw new UpstreamShapeError('a required tool call is not a function call');
    }
    const { name, arguments: args } = call.function;
    if (typeof name !== 'string' || typeof args !== 'string') {
      throw new UpstreamShapeError('a required tool call has no function name or arguments');
    }
    return { id: servableId(call.id, 'a required tool call'), name, arguments: args };
  });
}

function lastError(value: unknown): Run['lastError'] {
  if (value == null) return null;
  if (!isPlainObject(value) || typeof value.code !== 'string' || typeof value.message !== 'string') {
    throw new UpstreamShapeError('run.last_error is not {code, message}');
  }
  return { code: value.code, message: value.message };
}

function incompleteReason(value: unknown): string | null {
  if (value == null) return null;
  if (!isPlainObject(value)) throw new UpstreamShapeError('run.incomplete_details is not an object');
  return stringOrNull(value.reason, 'run.incomplete_details.reason');
}

/**
 * A Threads API run, checked against the thread (and run) asked for. A status the gateway does not
 * know is an upstream error, never guessed at: a client deciding whether to submit tool outputs or
 * to stop polling must not be told something the upstream did not say. Fields a dialect leaves out
 * are null (or empty); `required_action` is read only while the run requires action.
 */
export function normaliseRun(value: unknown, threadId: string, expectedId?: string): Run {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not a run object');
  assertServable(value, 'run');
  const id = sameId(value.id, expectedId, 'run');
  if (value.thread_id !== undefined && value.thread_id !== threadId) {
    throw new UpstreamShapeError('run belongs to another thread');
  }
  if (!isRunStatus(value.status)) throw new UpstreamShapeError('run.status is not a status the gateway knows');
  const status = value.status;
  return {
    object: 'thread.run',
    id,
    threadId,
    assistantId: value.assistant_id == null ? null : servableId(value.assistant_id, 'run.assistant_id'),
    status,
    model: stringOrNull(value.model, 'run.model'),
    instructions: stringOrNull(value.instructions, 'run.instructions'),
    tools: arrayOrEmpty(value.tools, 'run.tools'),
    metadata: metadata(value.metadata, 'run'),
    createdAt: secondsOrNull(value.created_at, 'run.created_at'),
    startedAt: secondsOrNull(value.started_at, 'run.started_at'),
    completedAt: secondsOrNull(value.completed_at, 'run.completed_at'),
    failedAt: secondsOrNull(value.failed_at, 'run.failed_at'),
    cancelledAt: secondsOrNull(value.cancelled_at, 'run.cancelled_at'),
    lastError: lastError(value.last_error),
    incompleteReason: incompleteReason(value.incomplete_details),
    requiredToolCalls: status === 'requires_action' ? requiredToolCalls(value.required_action) : [],
    usage: runUsage(value.usage),
  };
}

/** A Threads API assistant, checked against the id asked for; `model` is the one field it must have. */
export function normaliseAssistant(value: unknown, expectedId?: string): Assistant {
  if (!isPlainObject(value)) throw new UpstreamShapeError('not an assistant object');
  assertServable(value, 'assistant');
  const id = sameId(value.id, expectedId, 'assistant');
  if (typeof value.model !== 'string') throw new UpstreamShapeError('assistant.model is not a string');
  return {
    object: 'assistant',
    id,
    name: stringOrNull(value.name, 'assistant.name'),
    description: stringOrNull(value.description, 'assistant.description'),
    model: value.model,
    instructions: stringOrNull(value.instructions, 'assistant.instructions'),
    tools: arrayOrEmpty(value.tools, 'assistant.tools'),
    metadata: metadata(value.metadata, 'assistant'),
    temperature: numberOrNull(value.temperature, 'assistant.temperature'),
    topP: numberOrNull(value.top_p, 'assistant.top_p'),
    createdAt: secondsOrNull(value.created_at, 'assistant.created_at'),
  };
}
