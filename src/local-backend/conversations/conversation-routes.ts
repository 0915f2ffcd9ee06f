import { CONVERSATION_MAX_INITIAL_ITEMS } from '../../domain/conversation-items.ts';
import { checkMetadata } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail, json } from '../http/answer.ts';
import type { RouteCall, RouteTable } from '../http/route-table.ts';
import {
  type ConversationRouteDeps,
  conversation,
  conversationsSection,
  idempotent,
  noConversation,
  readBody,
  toStored,
} from './conversation-kit.ts';
import { registerItemRoutes } from './item-routes.ts';

const CREATE_FIELDS = new Set(['items', 'metadata']);
const UPDATE_FIELDS = new Set(['metadata']);

/**
 * The local backend's Conversations routes (OpenAI's Conversations API), over the same `Store` as
 * its Threads routes: a conversation is a stored thread (its `tool_resources` never shown), a
 * message item is a stored message. Every `/v1/conversations…` request is authenticated first.
 *
 * - `POST /v1/conversations` `{items ≤ 20, metadata}`; `GET` / `POST {metadata}` / `DELETE /v1/conversations/{id}`
 * - `GET /v1/conversations/{id}/items?limit=&order=&after=` (no `before`, as the API has none)
 * - `POST /v1/conversations/{id}/items` `{items}`; `GET` / `DELETE /v1/conversations/{id}/items/{item_id}`
 *
 * It stores message items, and the function calls and outputs the Responses routes write (served
 * back as `function_call` / `function_call_output` items); never reasoning items.
 */
export function registerConversationRoutes(table: RouteTable, deps: ConversationRouteDeps): void {
  const section = conversationsSection(deps);
  table.add(section, 'POST', '/v1/conversations', (call) => createConversation(deps, call));
  table.add(section, 'GET', '/v1/conversations/{id}', (call) => getConversation(deps, call));
  table.add(section, 'POST', '/v1/conversations/{id}', (call) => updateConversation(deps, call));
  table.add(section, 'DELETE', '/v1/conversations/{id}', (call) => deleteConversation(deps, call));
  registerItemRoutes(table, section, deps);
}

async function createConversation(deps: ConversationRouteDeps, call: RouteCall<[]>): Promise<BackendAnswer> {
  const read = await readBody(call.request, CREATE_FIELDS);
  if ('error' in read) return read.error;
  const { body } = read;
  if (body.metadata != null) {
    const found = checkMetadata(body.metadata, 'metadata');
    if (found) return fail(400, found);
  }
  const messages = body.items == null ? [] : toStored(body.items, CONVERSATION_MAX_INITIAL_ITEMS);
  if (!Array.isArray(messages)) return messages;
  return idempotent(deps.remembered, call, `POST /v1/conversations ${JSON.stringify(body)}`, async () => {
    const thread = await deps.store.createThread({
      metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
      tool_resources: null,
      messages,
    });
    return json(200, conversation(thread));
  });
}

async function getConversation(deps: ConversationRouteDeps, { ids: [id] }: RouteCall<[string]>) {
  const thread = await deps.store.getThread(id);
  return thread ? json(200, conversation(thread)) : noConversation(id);
}

async function updateConversation(deps: ConversationRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const read = await readBody(call.request, UPDATE_FIELDS);
  if ('error' in read) return read.error;
  const { body } = read;
  if (!('metadata' in body)) return fail(400, { message: 'metadata: is required', param: 'metadata' });
  if (body.metadata !== null) {
    const found = checkMetadata(body.metadata, 'metadata');
    if (found) return fail(400, found);
  }
  const thread = await deps.store.updateThread(id, { metadata: body.metadata as Record<string, string> | null });
  return thread ? json(200, conversation(thread)) : noConversation(id);
}

async function deleteConversation(deps: ConversationRouteDeps, { ids: [id] }: RouteCall<[string]>) {
  return (await deps.store.deleteThread(id))
    ? json(200, { id, object: 'conversation.deleted', deleted: true })
    : noConversation(id);
}
