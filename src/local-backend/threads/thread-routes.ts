import { type BackendAnswer, json } from '../http/answer.ts';
import { readObject } from '../http/body.ts';
import { idempotentByPath } from '../http/idempotency.ts';
import type { RouteCall, RouteTable } from '../http/route-table.ts';
import type { NewStoredThread, ThreadPatch } from '../store/store.ts';
import { checkCreate, checkModify } from './thread-checks.ts';
import { type ThreadRouteDeps, threadNotFound, threadsSection } from './threads-section.ts';
import { toStoredMessage } from './wire-message.ts';

/**
 * The Threads API's threads: `POST /v1/threads`, `GET` / `POST` (modify) / `DELETE
 * /v1/threads/{id}`, with the API's object shapes and error bodies, over any `Store`.
 */
export function registerThreadRoutes(table: RouteTable, deps: ThreadRouteDeps): void {
  const section = threadsSection(deps);
  table.add(section, 'POST', '/v1/threads', (call) => createThread(deps, call));
  table.add(section, 'GET', '/v1/threads/{id}', (call) => getThread(deps, call));
  table.add(section, 'POST', '/v1/threads/{id}', (call) => modifyThread(deps, call));
  table.add(section, 'DELETE', '/v1/threads/{id}', (call) => deleteThread(deps, call));
}

async function createThread(deps: ThreadRouteDeps, call: RouteCall<[]>): Promise<BackendAnswer> {
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const invalid = checkCreate(parsed.body);
  if (invalid) return invalid;
  const { body } = parsed;
  return idempotentByPath(deps.remembered, call, parsed.text, async () => {
    const input: NewStoredThread = {
      metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
      tool_resources: (body.tool_resources as Record<string, unknown> | null | undefined) ?? null,
      messages: ((body.messages as Array<Record<string, unknown>> | null | undefined) ?? []).map(toStoredMessage),
    };
    return json(200, await deps.store.createThread(input));
  });
}

async function getThread(deps: ThreadRouteDeps, { ids: [id] }: RouteCall<[string]>): Promise<BackendAnswer> {
  const thread = await deps.store.getThread(id);
  return thread ? json(200, thread) : threadNotFound(id);
}

async function modifyThread(deps: ThreadRouteDeps, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const invalid = checkModify(parsed.body);
  if (invalid) return invalid;
  const thread = await deps.store.updateThread(id, parsed.body as ThreadPatch);
  return thread ? json(200, thread) : threadNotFound(id);
}

async function deleteThread(deps: ThreadRouteDeps, { ids: [id] }: RouteCall<[string]>): Promise<BackendAnswer> {
  return (await deps.store.deleteThread(id))
    ? json(200, { id, object: 'thread.deleted', deleted: true })
    : threadNotFound(id);
}
