import { CONVERSATION_MAX_INITIAL_ITEMS } from '../../domain/conversation-items.ts';
import { type BackendAnswer, fail, json, listBody, notAllowed } from '../http/answer.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import type { StoredMessage } from '../store/store.ts';
import {
  type ConversationRouteDeps,
  conversation,
  idempotent,
  item,
  noConversation,
  noItem,
  readBody,
  toStored,
  unknownQuery,
} from './conversation-kit.ts';

const ADD_ITEMS_FIELDS = new Set(['items']);
const LIST_QUERY = new Set(['limit', 'order', 'after', 'include']);
const ITEM_QUERY = new Set(['include']);

type ItemCall = RouteCall<[string, string]>;

/** A conversation's items: list and add (`…/items`), read and delete one (`…/items/{item_id}`). */
export function registerItemRoutes(table: RouteTable, section: RouteSection, deps: ConversationRouteDeps): void {
  table.add(section, 'GET', '/v1/conversations/{id}/items', (call) => listItems(deps, call));
  table.add(section, 'POST', '/v1/conversations/{id}/items', (call) => addItems(deps, call));
  table.add(section, 'GET', '/v1/conversations/{id}/items/{item_id}', (call) =>
    onItem(deps, call, () => getItem(deps, call)),
  );
  table.add(section, 'DELETE', '/v1/conversations/{id}/items/{item_id}', (call) =>
    onItem(deps, call, () => deleteItem(deps, call)),
  );
  // Any other method still has its query and its conversation checked before the 405.
  table.add(section, '*', '/v1/conversations/{id}/items/{item_id}', (call) =>
    onItem(deps, call, async () => notAllowed(call.request.method)),
  );
}

async function listItems(deps: ConversationRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const query = new URLSearchParams(call.request.search ?? '');
  const refused = unknownQuery(query, LIST_QUERY);
  if (refused) return refused;
  const limitText = query.get('limit') ?? '20';
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) {
    return fail(400, { message: 'limit: must be an integer from 1 to 100', param: 'limit' });
  }
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    return fail(400, { message: 'order: must be "asc" or "desc"', param: 'order' });
  }
  const after = query.get('after') ?? undefined;
  const listed = await deps.store.listMessages(id, after === undefined ? { limit, order } : { limit, order, after });
  if (listed.kind === 'no-thread') return noConversation(id);
  if (listed.kind === 'bad-cursor') {
    return fail(400, { message: `${listed.param}: no item of this conversation has that id`, param: listed.param });
  }
  return json(200, listBody(listed.data.map(item), listed.has_more));
}

async function addItems(deps: ConversationRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const read = await readBody(call.request, ADD_ITEMS_FIELDS);
  if ('error' in read) return read.error;
  const { body } = read;
  if (body.items === undefined) return fail(400, { message: 'items: is required', param: 'items' });
  const messages = toStored(body.items, CONVERSATION_MAX_INITIAL_ITEMS);
  if (!Array.isArray(messages)) return messages;
  return idempotent(deps.remembered, call, `POST /v1/conversations/${id}/items ${JSON.stringify(body)}`, async () => {
    if (!(await deps.store.getThread(id))) return noConversation(id);
    const refused = await deps.beforeMessageCreate?.(id);
    if (refused) return refused;
    const created: StoredMessage[] = [];
    for (const message of messages) {
      const stored = await deps.store.createMessage(id, message);
      if (!stored) return noConversation(id);
      created.push(stored);
    }
    return json(200, listBody(created.map(item), false));
  });
}

/** One item's routes: the query (only `include`) and the conversation are checked first. */
async function onItem(
  deps: ConversationRouteDeps,
  call: ItemCall,
  answer: () => Promise<BackendAnswer>,
): Promise<BackendAnswer> {
  const refused = unknownQuery(new URLSearchParams(call.request.search ?? ''), ITEM_QUERY);
  if (refused) return refused;
  if (!(await deps.store.getThread(call.ids[0]))) return noConversation(call.ids[0]);
  return answer();
}

async function getItem(deps: ConversationRouteDeps, { ids: [id, itemId] }: ItemCall): Promise<BackendAnswer> {
  const stored = await deps.store.getMessage(id, itemId);
  return stored ? json(200, item(stored)) : noItem(itemId);
}

async function deleteItem(deps: ConversationRouteDeps, { ids: [id, itemId] }: ItemCall): Promise<BackendAnswer> {
  if (!(await deps.store.deleteMessage(id, itemId))) return noItem(itemId);
  const thread = await deps.store.getThread(id);
  return thread ? json(200, conversation(thread)) : noConversation(id);
}
