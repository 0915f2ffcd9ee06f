import { createHash } from 'node:crypto';
import {
  CONVERSATION_MAX_INITIAL_ITEMS,
  checkMessageItem,
  fromConversationParts,
  toConversationParts,
} from '../domain/conversation-items.ts';
import { checkMetadata, isPlainObject, THREAD_ID_PATTERN } from '../domain/thread-rules.ts';
import type { BackendAnswer, BackendRequest } from './backend.ts';
import { toolCallItem } from './responses/tool-call-items.ts';
import type { NewStoredMessage, Store, StoredMessage, StoredThread } from './store/store.ts';

/**
 * The local backend's Conversations routes (OpenAI's Conversations API), over the same `Store` as
 * its Threads routes: a conversation is a stored thread (its `tool_resources` never shown), a
 * message item is a stored message. The backend's router hands every `/v1/conversations…` request
 * here, already authenticated.
 *
 * - `POST /v1/conversations` `{items ≤ 20, metadata}`; `GET` / `POST {metadata}` / `DELETE /v1/conversations/{id}`
 * - `GET /v1/conversations/{id}/items?limit=&order=&after=` (no `before`, as the API has none)
 * - `POST /v1/conversations/{id}/items` `{items}`; `GET` / `DELETE /v1/conversations/{id}/items/{item_id}`
 *
 * It stores message items, and the function calls and outputs the Responses routes write (served
 * back as `function_call` / `function_call_output` items); never reasoning items.
 */

/** An answer as the backend's HTTP layer sends it (the JSON text in `body`). */
export type ConversationAnswer = BackendAnswer;

export interface ConversationRequest {
  method: string;
  /** The path segments after `/v1/conversations`, still URL-encoded. */
  segments: readonly string[];
  query: URLSearchParams;
  header(name: string): string | null | undefined;
  text(): Promise<string>;
}

export interface ConversationRouteContext {
  store: Store;
  /** The caller's key: idempotency keys are remembered per key. */
  apiKey: string;
  /** The backend's Idempotency-Key mechanism: replays a remembered create, or runs and remembers it. */
  rememberedCreate(
    scopedKey: string,
    requestFingerprint: string,
    create: () => Promise<ConversationAnswer>,
  ): Promise<ConversationAnswer>;
  /** Makes an answer with the backend's headers (content type, request id). */
  json(status: number, body: unknown): ConversationAnswer;
}

/** What the backend's router lends its Conversations routes. */
export interface ConversationRoutesDeps {
  store: Store;
  rememberedCreate: ConversationRouteContext['rememberedCreate'];
  json(status: number, body: unknown): BackendAnswer;
  authenticate(request: BackendRequest): { key: string } | { error: BackendAnswer };
  count(method: string, shape: string): void;
}

/** Answers one `/v1/conversations…` request (the backend's router hands them all here). */
export async function routeConversations(
  request: BackendRequest,
  deps: ConversationRoutesDeps,
): Promise<BackendAnswer> {
  const segments = request.path.split('/').slice(3);
  deps.count(request.method, conversationRouteShape(segments));
  const auth = deps.authenticate(request);
  if ('error' in auth) return auth.error;
  return handleConversations(
    {
      method: request.method,
      segments,
      query: new URLSearchParams(request.search ?? ''),
      header: (name) => request.header(name),
      text: () => request.text(),
    },
    { store: deps.store, apiKey: auth.key, rememberedCreate: deps.rememberedCreate, json: deps.json },
  );
}

/**
 * A path segment as text; a malformed percent-encoding (`%E0%A4%A`, `%ZZ`) is no id at all, so the
 * route answers 404 as for any id it does not have, never a 500 from a thrown URIError.
 */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The shape a route has, for the backend's request counts (`GET /v1/conversations/{id}/items`). */
export function conversationRouteShape(segments: readonly string[]): string {
  const shapes = ['/v1/conversations', '/v1/conversations/{id}', '/v1/conversations/{id}/items'];
  if (segments.length <= 1) return shapes[segments.length] ?? 'unknown';
  if (segments[1] !== 'items' || segments.length > 3) return 'unknown';
  return segments.length === 2 ? '/v1/conversations/{id}/items' : '/v1/conversations/{id}/items/{item_id}';
}

const CREATE_FIELDS = new Set(['items', 'metadata']);
const UPDATE_FIELDS = new Set(['metadata']);
const ADD_ITEMS_FIELDS = new Set(['items']);
const LIST_QUERY = new Set(['limit', 'order', 'after', 'include']);
const ITEM_QUERY = new Set(['include']);

interface ErrorFields {
  message: string;
  param?: string | null;
  code?: string | null;
}

export function handleConversations(
  request: ConversationRequest,
  context: ConversationRouteContext,
): Promise<ConversationAnswer> {
  const fail = (status: number, error: ErrorFields): ConversationAnswer =>
    context.json(status, { error: { type: 'invalid_request_error', param: null, code: null, ...error } });
  const noConversation = (id: string) =>
    fail(404, { message: `Conversation with id '${id}' not found.`, param: null, code: null });
  const noItem = (id: string) => fail(404, { message: `Item with id '${id}' not found.`, param: null, code: null });
  const notAllowed = () => fail(405, { message: `Method ${request.method} is not allowed on this route.` });
  const unknownUrl = () =>
    fail(404, {
      message: `Invalid URL (${request.method} /v1/conversations/${request.segments.join('/')})`,
      code: 'unknown_url',
    });

  async function readBody(
    allowed: Set<string>,
  ): Promise<{ body: Record<string, unknown> } | { error: ConversationAnswer }> {
    const text = await request.text();
    let body: unknown = {};
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return {
          error: fail(400, { message: 'We could not parse the JSON body of your request.', code: 'invalid_json' }),
        };
      }
    }
    if (!isPlainObject(body)) return { error: fail(400, { message: 'The body must be a JSON object.' }) };
    const extra = Object.keys(body).find((key) => !allowed.has(key));
    if (extra !== undefined) {
      return {
        error: fail(400, { message: `Unknown parameter: '${extra}'.`, param: extra, code: 'unknown_parameter' }),
      };
    }
    return { body };
  }

  function unknownQuery(allowed: Set<string>): ConversationAnswer | null {
    for (const key of request.query.keys()) {
      if (!allowed.has(key)) {
        return fail(400, { message: `Unknown parameter: '${key}'.`, param: key, code: 'unknown_parameter' });
      }
    }
    return null;
  }

  /** The items of a body as stored messages, or the 400 naming the bad one. */
  function toStored(items: unknown, max: number): NewStoredMessage[] | ConversationAnswer {
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

  /** A Conversations create: the key is scoped to the caller's API key and the Conversations API. */
  function idempotent(fingerprintOf: string, create: () => Promise<ConversationAnswer>): Promise<ConversationAnswer> {
    const key = request.header('idempotency-key');
    if (!key) return create();
    const fingerprint = createHash('sha256').update(fingerprintOf).digest('hex');
    return context.rememberedCreate(`conversations\u0000${context.apiKey}\u0000${key}`, fingerprint, create);
  }

  async function createConversation(): Promise<ConversationAnswer> {
    const read = await readBody(CREATE_FIELDS);
    if ('error' in read) return read.error;
    const { body } = read;
    if (body.metadata != null) {
      const found = checkMetadata(body.metadata, 'metadata');
      if (found) return fail(400, found);
    }
    const messages = body.items == null ? [] : toStored(body.items, CONVERSATION_MAX_INITIAL_ITEMS);
    if (!Array.isArray(messages)) return messages;
    return idempotent(`POST /v1/conversations ${JSON.stringify(body)}`, async () => {
      const thread = await context.store.createThread({
        metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
        tool_resources: null,
        messages,
      });
      return context.json(200, conversation(thread));
    });
  }

  async function onConversation(id: string): Promise<ConversationAnswer> {
    switch (request.method) {
      case 'GET': {
        const thread = await context.store.getThread(id);
        return thread ? context.json(200, conversation(thread)) : noConversation(id);
      }
      case 'POST': {
        const read = await readBody(UPDATE_FIELDS);
        if ('error' in read) return read.error;
        const { body } = read;
        if (!('metadata' in body)) return fail(400, { message: 'metadata: is required', param: 'metadata' });
        if (body.metadata !== null) {
          const found = checkMetadata(body.metadata, 'metadata');
          if (found) return fail(400, found);
        }
        const thread = await context.store.updateThread(id, {
          metadata: body.metadata as Record<string, string> | null,
        });
        return thread ? context.json(200, conversation(thread)) : noConversation(id);
      }
      case 'DELETE':
        return (await context.store.deleteThread(id))
          ? context.json(200, { id, object: 'conversation.deleted', deleted: true })
          : noConversation(id);
      default:
        return notAllowed();
    }
  }

  async function onItems(id: string): Promise<ConversationAnswer> {
    if (request.method === 'GET') {
      const refused = unknownQuery(LIST_QUERY);
      if (refused) return refused;
      const limitText = request.query.get('limit') ?? '20';
      const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
      if (!(limit >= 1 && limit <= 100)) {
        return fail(400, { message: 'limit: must be an integer from 1 to 100', param: 'limit' });
      }
      const order = request.query.get('order') ?? 'desc';
      if (order !== 'asc' && order !== 'desc') {
        return fail(400, { message: 'order: must be "asc" or "desc"', param: 'order' });
      }
      const after = request.query.get('after') ?? undefined;
      const listed = await context.store.listMessages(
        id,
        after === undefined ? { limit, order } : { limit, order, after },
      );
      if (listed.kind === 'no-thread') return noConversation(id);
      if (listed.kind === 'bad-cursor') {
        return fail(400, { message: `${listed.param}: no item of this conversation has that id`, param: listed.param });
      }
      return context.json(200, itemList(listed.data.map(item), listed.has_more));
    }
    if (request.method !== 'POST') return notAllowed();
    const read = await readBody(ADD_ITEMS_FIELDS);
    if ('error' in read) return read.error;
    const { body } = read;
    if (body.items === undefined) return fail(400, { message: 'items: is required', param: 'items' });
    const messages = toStored(body.items, CONVERSATION_MAX_INITIAL_ITEMS);
    if (!Array.isArray(messages)) return messages;
    return idempotent(`POST /v1/conversations/${id}/items ${JSON.stringify(body)}`, async () => {
      if (!(await context.store.getThread(id))) return noConversation(id);
      const created: StoredMessage[] = [];
      for (const message of messages) {
        const stored = await context.store.createMessage(id, message);
        if (!stored) return noConversation(id);
        created.push(stored);
      }
      return context.json(200, itemList(created.map(item), false));
    });
  }

  async function onItem(id: string, itemId: string): Promise<ConversationAnswer> {
    const refused = unknownQuery(ITEM_QUERY);
    if (refused) return refused;
    if (!(await context.store.getThread(id))) return noConversation(id);
    switch (request.method) {
      case 'GET': {
        const stored = await context.store.getMessage(id, itemId);
        return stored ? context.json(200, item(stored)) : noItem(itemId);
      }
      case 'DELETE': {
        if (!(await context.store.deleteMessage(id, itemId))) return noItem(itemId);
        const thread = await context.store.getThread(id);
        return thread ? context.json(200, conversation(thread)) : noConversation(id);
      }
      default:
        return notAllowed();
    }
  }

  async function route(): Promise<ConversationAnswer> {
    const [rawId, sub, rawItemId, ...rest] = request.segments;
    if (rawId === undefined) {
      if (request.method !== 'POST') return notAllowed();
      return createConversation();
    }
    if (rest.length > 0 || (sub !== undefined && sub !== 'items')) return unknownUrl();
    const id = decodeSegment(rawId);
    if (id === undefined || !THREAD_ID_PATTERN.test(id)) return noConversation(id ?? rawId);
    if (sub === undefined) return onConversation(id);
    if (rawItemId === undefined) return onItems(id);
    const itemId = decodeSegment(rawItemId);
    if (itemId === undefined || !THREAD_ID_PATTERN.test(itemId)) return noItem(itemId ?? rawItemId);
    return onItem(id, itemId);
  }

  return route();
}

/** A stored thread as the Conversations API shows it: no tool resources. */
function conversation(thread: StoredThread) {
  return { id: thread.id, object: 'conversation', created_at: thread.created_at, metadata: thread.metadata };
}

/** A stored message as a message item: no timestamp, metadata or attachments on the wire. */
function item(message: StoredMessage) {
  // A function call or its output, written by a response (responses/tool-call-items.ts).
  const toolItem = toolCallItem(message);
  if (toolItem) return toolItem;
  return {
    id: message.id,
    type: 'message',
    status: 'completed',
    role: message.role,
    content: toConversationParts(message.role, message.content),
  };
}

function itemList(data: Array<{ id: string }>, hasMore: boolean) {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}
