import { checkMessageItem, fromConversationParts, toConversationParts } from '../../domain/conversation-items.ts';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { type BackendAnswer, type BackendRequest, fail } from '../http/answer.ts';
import type { Authenticate } from '../http/auth.ts';
import { parseJson } from '../http/body.ts';
import { type RememberedCreate, sha256 } from '../http/idempotency.ts';
import { decodedId } from '../http/ids.ts';
import type { RouteSection } from '../http/route-table.ts';
import { toolCallItem } from '../responses/tool-call-items.ts';
import type { NewStoredMessage, Store, StoredMessage, StoredThread } from '../store/store.ts';

/** The body as a JSON object of only `allowed` fields, or the Conversations API's 400. */
export async function readBody(
  request: BackendRequest,
  allowed: ReadonlySet<string>,
): Promise<{ body: Record<string, unknown> } | { error: BackendAnswer }> {
  const parsed = parseJson(await request.text());
  if ('error' in parsed) return parsed;
  const { body } = parsed;
  if (!isPlainObject(body)) return { error: fail(400, { message: 'The body must be a JSON object.' }) };
  const extra = Object.keys(body).find((key) => !allowed.has(key));
  if (extra !== undefined) {
    return { error: fail(400, { message: `Unknown parameter: '${extra}'.`, param: extra, code: 'unknown_parameter' }) };
  }
  return { body };
}

/** The 400 for a query parameter the route does not take. */
export function unknownQuery(query: URLSearchParams, allowed: ReadonlySet<string>): BackendAnswer | null {
  for (const key of query.keys()) {
    if (!allowed.has(key)) {
      return fail(400, { message: `Unknown parameter: '${key}'.`, param: key, code: 'unknown_parameter' });
    }
  }
  return null;
}

/** The items of a body as stored messages, or the 400 naming the bad one. */
export function toStored(items: unknown, max: number): NewStoredMessage[] | BackendAnswer {
  if (!Array.isArray(items)) return fail(400, { message: 'items: must be an array', param: 'items' });
  if (items.length > max) {
    return fail(400, {
      message: `items: may hold at most ${max} items, got ${items.length}`,
      param: 'items',
      code: 'array_above_max_length',
    });
  }
  const stored: NewStoredMessage[] = [];
  for (const [index, item] of items.entries()) {
    const found = checkMessageItem(item, `items[${index}]`);
    if (found) return fail(400, found);
    const { role, content } = item as { role: string; content: unknown };
    stored.push({ role, content: fromConversationParts(content), attachments: null, metadata: {} });
  }
  return stored;
}

/**
 * A Conversations create: the key is scoped to the caller's API key and the Conversations API (not
 * the path, unlike the Threads routes), the request known by `fingerprintOf`.
 */
export function idempotent(
  remembered: RememberedCreate,
  call: { request: BackendRequest; apiKey: string },
  fingerprintOf: string,
  create: () => Promise<BackendAnswer>,
): Promise<BackendAnswer> {
  const key = call.request.header('idempotency-key');
  if (!key) return create();
  return remembered(`conversations\u0000${call.apiKey}\u0000${key}`, sha256(fingerprintOf), create);
}

/** A stored thread as the Conversations API shows it: no tool resources. */
export function conversation(thread: StoredThread) {
  return { id: thread.id, object: 'conversation', created_at: thread.created_at, metadata: thread.metadata };
}

/** A stored message as a message item: no timestamp, metadata or attachments on the wire. */
export function item(message: StoredMessage) {
  // A function call or its output, written by a response (responses/tool-call-items.ts).
  const toolItem = toolCallItem(message);
  if (toolItem) return toolItem;
  return {
    id: message.id,
    type: 'message',
    status: message.status,
    role: message.role,
    // The API's `output_text` always carries its token logprobs; no model here reports any.
    content: toConversationParts(message.role, message.content).map((part) =>
      part.type === 'output_text' ? { ...part, logprobs: [] } : part,
    ),
  };
}

/** What the Conversations routes are given by the backend. */
export interface ConversationRouteDeps {
  store: Store;
  authenticate: Authenticate;
  remembered: RememberedCreate;
  /** Asked before items are added: a thread with an active Threads run takes none (runs/routes.ts). */
  beforeMessageCreate?(threadId: string): Promise<BackendAnswer | undefined>;
}

export function noConversation(id: string): BackendAnswer {
  return fail(404, { message: `Conversation with id '${id}' not found.`, param: null, code: null });
}

export function noItem(id: string): BackendAnswer {
  return fail(404, { message: `Item with id '${id}' not found.`, param: null, code: null });
}

/** `/v1/conversations/{id}/items/{item_id}`: a key, then the ids; any path under it is theirs. */
export function conversationsSection(deps: ConversationRouteDeps): RouteSection {
  return {
    guard: async (request) => deps.authenticate(request),
    ids: [decodedId(noConversation), decodedId(noItem)],
    prefix: '/v1/conversations/',
  };
}
