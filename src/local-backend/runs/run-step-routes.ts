import { type BackendAnswer, fail, json } from '../http/answer.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import { pageOf } from '../store/memory-run-store.ts';
import { listAnswer, parseListQuery, type RunRouteContext, runNotFound } from './route-kit.ts';
import { runSteps } from './run-steps.ts';

/** The one `include[]` value the API takes on steps (file search results: none exist here). */
const INCLUDE = 'step_details.tool_calls[*].file_search.results[*].content';

export function stepNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No run step found with id '${id}'.`, code: 'run_step_not_found' });
}

/** `include[]` checked and taken out; the rest is the list query (or nothing, for one step). */
function withoutInclude(search: string): { search: string } | BackendAnswer {
  const params = new URLSearchParams(search);
  for (const value of params.getAll('include[]')) {
    if (value !== INCLUDE) return fail(400, { message: `include[]: must be '${INCLUDE}'.`, param: 'include[]' });
  }
  params.delete('include[]');
  return { search: params.toString() };
}

/** `GET /v1/threads/{thread_id}/runs/{run_id}/steps` and `…/steps/{step_id}`: a run's steps (runs/run-steps.ts). */
export function registerRunStepRoutes(table: RouteTable, section: RouteSection, ctx: RunRouteContext): void {
  table.add(section, 'GET', '/v1/threads/{id}/runs/{id}/steps', (call) => listSteps(ctx, call));
  table.add(section, 'GET', '/v1/threads/{id}/runs/{id}/steps/{id}', (call) => getStep(ctx, call));
}

async function stepsOf(ctx: RunRouteContext, threadId: string, runId: string) {
  const stored = await ctx.store.runs.getRun(threadId, runId);
  return stored && runSteps(ctx.store, await ctx.driver.current(stored));
}

async function listSteps(ctx: RunRouteContext, call: RouteCall<[string, string]>): Promise<BackendAnswer> {
  const [threadId, runId] = call.ids;
  const rest = withoutInclude(call.request.search ?? '');
  if ('status' in rest) return rest;
  const query = parseListQuery(rest.search);
  if ('status' in query) return query;
  const steps = await stepsOf(ctx, threadId, runId);
  if (!steps) return runNotFound(runId);
  const page = pageOf(steps, query);
  return page.kind === 'no-thread' ? runNotFound(runId) : listAnswer(page);
}

async function getStep(ctx: RunRouteContext, call: RouteCall<[string, string, string]>): Promise<BackendAnswer> {
  const [threadId, runId, stepId] = call.ids;
  const rest = withoutInclude(call.request.search ?? '');
  if ('status' in rest) return rest;
  if (rest.search !== '')
    return fail(400, { message: `Unrecognized request argument supplied: ${rest.search.split('=')[0]}` });
  const steps = await stepsOf(ctx, threadId, runId);
  if (!steps) return runNotFound(runId);
  const step = steps.find((candidate) => candidate.id === stepId);
  return step ? json(200, step) : stepNotFound(stepId);
}
