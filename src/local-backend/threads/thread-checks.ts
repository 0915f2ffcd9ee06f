import { checkMetadata, checkToolResources, checkWireMessage, THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail } from '../http/answer.ts';
import { unknownField } from '../http/body.ts';
import type { ListMessagesQuery } from '../store/store.ts';

const CREATE_FIELDS = new Set(['messages', 'metadata', 'tool_resources']);
const MODIFY_FIELDS = new Set(['metadata', 'tool_resources']);
const LIST_PARAMS = new Set(['limit', 'order', 'after', 'before', 'run_id']);

function checkThreadFields(body: Record<string, unknown>): BackendAnswer | null {
  const found =
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    (body.tool_resources == null ? null : checkToolResources(body.tool_resources, 'tool_resources'));
  return found ? fail(400, found) : null;
}

/** `POST /v1/threads`: `messages` (each a wire message), `metadata`, `tool_resources`. */
export function checkCreate(body: Record<string, unknown>): BackendAnswer | null {
  const extra = unknownField(body, CREATE_FIELDS);
  if (extra) return extra;
  const { messages } = body;
  if (messages != null) {
    if (!Array.isArray(messages)) return fail(400, { message: 'messages: must be an array', param: 'messages' });
    for (const [index, message] of messages.entries()) {
      const found = checkWireMessage(message, `messages[${index}]`);
      if (found) return fail(400, found);
    }
  }
  return checkThreadFields(body);
}

/** `POST /v1/threads/{id}`: `metadata`, `tool_resources`. */
export function checkModify(body: Record<string, unknown>): BackendAnswer | null {
  return unknownField(body, MODIFY_FIELDS) ?? checkThreadFields(body);
}

function checkCursors(params: URLSearchParams, query: ListMessagesQuery): BackendAnswer | undefined {
  // Only the messages that run wrote; still an id with the ids' bounds.
  const runId = params.get('run_id');
  if (runId !== null && !THREAD_ID_PATTERN.test(runId)) {
    return fail(400, { message: 'run_id: must be a run id.', param: 'run_id' });
  }
  if (runId !== null) query.run_id = runId;
  for (const cursor of ['after', 'before'] as const) {
    const value = params.get(cursor);
    if (value === null) continue;
    if (!THREAD_ID_PATTERN.test(value)) {
      return fail(400, { message: `${cursor}: must be a message id of this thread.`, param: cursor });
    }
    query[cursor] = value;
  }
  return undefined;
}

/** `GET /v1/threads/{id}/messages?limit&order&after&before&run_id`, or the 400 for a bad one. */
export function parseListQuery(search: string): ListMessagesQuery | BackendAnswer {
  const params = new URLSearchParams(search);
  for (const name of params.keys()) {
    if (!LIST_PARAMS.has(name)) {
      return fail(400, { message: `Unrecognized request argument supplied: ${name}`, param: name });
    }
  }
  const query: ListMessagesQuery = { limit: 20, order: 'desc' };
  const limit = params.get('limit');
  if (limit !== null) {
    const value = Number(limit);
    if (!/^\d{1,3}$/.test(limit) || value < 1 || value > 100) {
      return fail(400, { message: 'limit: must be an integer from 1 to 100.', param: 'limit' });
    }
    query.limit = value;
  }
  const order = params.get('order');
  if (order !== null) {
    if (order !== 'asc' && order !== 'desc') {
      return fail(400, { message: "order: must be 'asc' or 'desc'.", param: 'order' });
    }
    query.order = order;
  }
  return checkCursors(params, query) ?? query;
}
