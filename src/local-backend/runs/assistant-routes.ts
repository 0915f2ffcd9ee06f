import type { BackendAnswer, BackendRequest } from '../backend.ts';
import type { AssistantPatch, NewStoredAssistant } from '../store/run-store.ts';
import {
  fail,
  idempotent,
  invalid,
  listAnswer,
  notAllowed,
  parseListQuery,
  type RunRouteContext,
  readObject,
  unknownField,
} from './route-kit.ts';
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

function notFound(ctx: RunRouteContext, id: string): BackendAnswer {
  return fail(ctx, 404, { message: `No assistant found with id '${id}'.`, code: 'assistant_not_found' });
}

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

async function create(ctx: RunRouteContext, request: BackendRequest): Promise<BackendAnswer> {
  const parsed = await readObject(ctx, request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(ctx, parsed.body, ASSISTANT_FIELDS);
  if (extra) return extra;
  if (parsed.body.model == null) {
    return fail(ctx, 400, {
      message: "Missing required parameter: 'model'.",
      param: 'model',
      code: 'missing_required_parameter',
    });
  }
  const found = checkAssistantFields(parsed.body);
  if (found) return invalid(ctx, found);
  return idempotent(ctx, request, parsed.text, async () =>
    ctx.deps.json(200, await ctx.deps.store.runs.createAssistant(newAssistant(parsed.body))),
  );
}

async function modify(ctx: RunRouteContext, request: BackendRequest, id: string): Promise<BackendAnswer> {
  const parsed = await readObject(ctx, request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(ctx, parsed.body, ASSISTANT_FIELDS);
  if (extra) return extra;
  if (parsed.body.model === null) return invalid(ctx, { param: 'model', message: 'model: must be a model name' });
  const found = checkAssistantFields(parsed.body);
  if (found) return invalid(ctx, found);
  const assistant = await ctx.deps.store.runs.updateAssistant(id, assistantPatch(parsed.body));
  return assistant ? ctx.deps.json(200, assistant) : notFound(ctx, id);
}

/**
 * `POST /v1/assistants`, `GET /v1/assistants?limit&order&after&before`, and `GET` / `POST` (modify)
 * / `DELETE /v1/assistants/{id}`. `id` is undefined for the collection.
 */
export async function handleAssistants(
  ctx: RunRouteContext,
  request: BackendRequest,
  id: string | undefined,
): Promise<BackendAnswer> {
  const { runs } = ctx.deps.store;
  if (id === undefined) {
    if (request.method === 'POST') return create(ctx, request);
    if (request.method !== 'GET') return notAllowed(ctx, request.method);
    const query = parseListQuery(ctx, request.search ?? '');
    if ('status' in query) return query;
    const result = await runs.listAssistants(query);
    return result.kind === 'no-thread' ? notFound(ctx, '') : listAnswer(ctx, result);
  }
  switch (request.method) {
    case 'GET': {
      const assistant = await runs.getAssistant(id);
      return assistant ? ctx.deps.json(200, assistant) : notFound(ctx, id);
    }
    case 'POST':
      return modify(ctx, request, id);
    case 'DELETE':
      return (await runs.deleteAssistant(id))
        ? ctx.deps.json(200, { id, object: 'assistant.deleted', deleted: true })
        : notFound(ctx, id);
    default:
      return notAllowed(ctx, request.method);
  }
}
