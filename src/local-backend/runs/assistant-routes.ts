import { type BackendAnswer, fail, json } from '../http/answer.ts';
import { readObject, unknownField } from '../http/body.ts';
import { idempotentByPath } from '../http/idempotency.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import type { AssistantPatch, NewStoredAssistant } from '../store/run-store.ts';
import { assistantNotFound, listAnswer, parseListQuery, type RunRouteContext } from './route-kit.ts';
import { checkAssistantFields } from './run-rules.ts';

const ASSISTANT_FIELDS = [
  'model',
  'name',
  'description',
  'instructions',
  'reasoning_effort',
  'tools',
  'tool_resources',
  'metadata',
  'temperature',
  'top_p',
  'response_format',
] as const;
const ASSISTANT_FIELD_SET = new Set<string>(ASSISTANT_FIELDS);

/** The fields of a checked create body, with the API's defaults. */
function newAssistant(body: Record<string, unknown>): NewStoredAssistant {
  return {
    name: (body.name as string | null | undefined) ?? null,
    description: (body.description as string | null | undefined) ?? null,
    model: body.model as string,
    instructions: (body.instructions as string | null | undefined) ?? null,
    tools: (body.tools as unknown[] | null | undefined) ?? [],
    tool_resources: (body.tool_resources as Record<string, unknown> | null | undefined) ?? null,
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
    temperature: (body.temperature as number | null | undefined) ?? 1,
    top_p: (body.top_p as number | null | undefined) ?? 1,
    response_format: body.response_format ?? 'auto',
    reasoning_effort: (body.reasoning_effort as string | null | undefined) ?? null,
  };
}

/** Only the fields the modify body names; null clears a nullable one (tools and metadata to empty). */
function assistantPatch(body: Record<string, unknown>): AssistantPatch {
  const defaults = newAssistant({ ...body, model: body.model ?? '' });
  const patch: Record<string, unknown> = {};
  for (const field of ASSISTANT_FIELDS) {
    if (body[field] !== undefined) patch[field] = defaults[field];
  }
  return patch as AssistantPatch;
}

/**
 * `POST /v1/assistants`, `GET /v1/assistants?limit&order&after&before`, and `GET` / `POST` (modify)
 * / `DELETE /v1/assistants/{id}`.
 */
export function registerAssistantRoutes(table: RouteTable, section: RouteSection, ctx: RunRouteContext): void {
  table.add(section, 'POST', '/v1/assistants', (call) => createAssistant(ctx, call));
  table.add(section, 'GET', '/v1/assistants', (call) => listAssistants(ctx, call));
  table.add(section, 'GET', '/v1/assistants/{id}', (call) => getAssistant(ctx, call));
  table.add(section, 'POST', '/v1/assistants/{id}', (call) => modifyAssistant(ctx, call));
  table.add(section, 'DELETE', '/v1/assistants/{id}', (call) => deleteAssistant(ctx, call));
}

async function createAssistant(ctx: RunRouteContext, call: RouteCall<[]>): Promise<BackendAnswer> {
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(parsed.body, ASSISTANT_FIELD_SET);
  if (extra) return extra;
  if (parsed.body.model == null) {
    return fail(400, {
      message: "Missing required parameter: 'model'.",
      param: 'model',
      code: 'missing_required_parameter',
    });
  }
  const found = checkAssistantFields(parsed.body);
  if (found) return fail(400, found);
  return idempotentByPath(ctx.remembered, call, parsed.text, async () =>
    json(200, await ctx.store.runs.createAssistant(newAssistant(parsed.body))),
  );
}

async function listAssistants(ctx: RunRouteContext, call: RouteCall<[]>): Promise<BackendAnswer> {
  const query = parseListQuery(call.request.search ?? '');
  if ('status' in query) return query;
  const result = await ctx.store.runs.listAssistants(query);
  return result.kind === 'no-thread' ? assistantNotFound('') : listAnswer(result);
}

async function getAssistant(ctx: RunRouteContext, { ids: [id] }: RouteCall<[string]>): Promise<BackendAnswer> {
  const assistant = await ctx.store.runs.getAssistant(id);
  return assistant ? json(200, assistant) : assistantNotFound(id);
}

async function modifyAssistant(ctx: RunRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [id] = call.ids;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(parsed.body, ASSISTANT_FIELD_SET);
  if (extra) return extra;
  if (parsed.body.model === null) return fail(400, { param: 'model', message: 'model: must be a model name' });
  const found = checkAssistantFields(parsed.body);
  if (found) return fail(400, found);
  const assistant = await ctx.store.runs.updateAssistant(id, assistantPatch(parsed.body));
  return assistant ? json(200, assistant) : assistantNotFound(id);
}

async function deleteAssistant(ctx: RunRouteContext, { ids: [id] }: RouteCall<[string]>): Promise<BackendAnswer> {
  return (await ctx.store.runs.deleteAssistant(id))
    ? json(200, { id, object: 'assistant.deleted', deleted: true })
    : assistantNotFound(id);
}
