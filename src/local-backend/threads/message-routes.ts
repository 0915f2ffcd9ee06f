import { checkMetadata, checkWireMessage } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail, json, listBody } from '../http/answer.ts';
import { readObject, unknownField } from '../http/body.ts';
import { idempotentByPath } from '../http/idempotency.ts';
import type { RouteCall, RouteTable } from '../http/route-table.ts';
import { parseListQuery } from './thread-checks.ts';
import { messageNotFound, type ThreadRouteDeps, threadNotFound, threadsSection } from './threads-section.ts';
import { toStoredMessage, wireMessage } from './wire-message.ts';

const MODIFY_FIELDS = new Set(['metadata']);

/**
 * A thread's messages: `GET` (a page, with cursors) / `POST /v1/threads/{id}/messages`, and `GET`
 * / `POST` (modify metadata) / `DELETE /v1/threads/{id}/messages/{message_id}`.
 */
export function registerMessageRoutes(table: RouteTable, deps: ThreadRouteDeps): void {
  const section = threadsSection(deps);
  table.add(section, 'GET', '/v1/threads/{id}/messages', (call) => listMessages(deps, call));
  table.add(section, 'POST', '/v1/threads/{id}/messages', (call) => createMessage(deps, call));
  table.add(section, 'GET', '/v1/threads/{id}/messages/{id}', (call) => getMessage(deps, call));
  table.add(section, 'POST', '/v1/threads/{id}/messages/{id}', (call) => modifyMessage(deps, call));
  table.add(section, 'DELETE', '/v1/threads/{id}/messages/{id}', (call) => deleteMessage(deps, call));
}

async function listMessages(deps: ThreadRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [threadId] = call.ids;
  const query = parseListQuery(call.request.search ?? '');
  if ('status' in query) return query;
  const result = await deps.store.listMessages(threadId, query);
  if (result.kind === 'no-thread') return threadNotFound(threadId);
  if (result.kind === 'bad-cursor') {
    return fail(400, {
      message: `${result.param}: no message with this id in thread '${threadId}'.`,
      param: result.param,
    });
  }
  return json(200, listBody(result.data.map(wireMessage), result.has_more));
}

async function createMessage(deps: ThreadRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [threadId] = call.ids;
  const refused = await deps.beforeMessageCreate?.(threadId);
  if (refused) return refused;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const found = checkWireMessage(parsed.body, '');
  if (found) return fail(400, found);
  return idempotentByPath(deps.remembered, call, parsed.text, async () => {
    const message = await deps.store.createMessage(threadId, toStoredMessage(parsed.body));
    return message ? json(200, wireMessage(message)) : threadNotFound(threadId);
  });
}

async function getMessage(deps: ThreadRouteDeps, { ids: [threadId, id] }: RouteCall<[string, string]>) {
  const message = await deps.store.getMessage(threadId, id);
  return message ? json(200, wireMessage(message)) : messageNotFound(id);
}

async function modifyMessage(deps: ThreadRouteDeps, call: RouteCall<[string, string]>): Promise<BackendAnswer> {
  const [threadId, id] = call.ids;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const invalid = unknownField(parsed.body, MODIFY_FIELDS);
  if (invalid) return invalid;
  const found = parsed.body.metadata == null ? null : checkMetadata(parsed.body.metadata, 'metadata');
  if (found) return fail(400, found);
  const metadata = (parsed.body.metadata as Record<string, string> | null | undefined) ?? {};
  const message = await deps.store.updateMessage(threadId, id, metadata);
  return message ? json(200, wireMessage(message)) : messageNotFound(id);
}

async function deleteMessage(deps: ThreadRouteDeps, { ids: [threadId, id] }: RouteCall<[string, string]>) {
  return (await deps.store.deleteMessage(threadId, id))
    ? json(200, { id, object: 'thread.message.deleted', deleted: true })
    : messageNotFound(id);
}
