import { checkMetadata } from '../../domain/thread-rules.ts';
import { type BackendAnswer, eventStream, fail, json } from '../http/answer.ts';
import { readObject, unknownField } from '../http/body.ts';
import { idempotentByPath } from '../http/idempotency.ts';
import type { RouteCall, RouteSection, RouteTable } from '../http/route-table.ts';
import type { RunRecord, StoredAssistant, StoredRun, ToolRound } from '../store/run-store.ts';
import { toStoredMessage } from '../threads/wire-message.ts';
import { listAnswer, parseListQuery, type RunRouteContext, runNotFound, threadNotFound } from './route-kit.ts';
import { checkToolOutputs, MAX_RUN_TOOLS } from './run-rules.ts';
import { checkCreateRun, checkStream, runSettings } from './run-settings.ts';
import { registerRunStepRoutes } from './run-step-routes.ts';
import { RunStream } from './run-stream.ts';
import { createThreadAndRun } from './thread-run-routes.ts';

const TOOL_OUTPUTS_FIELDS = new Set(['tool_outputs', 'stream']);
const MODIFY_FIELDS = new Set(['metadata']);

type RunCall = RouteCall<[string, string]>;

/**
 * `POST` / `GET /v1/threads/{thread_id}/runs`, `GET` / `POST /v1/threads/{thread_id}/runs/{run_id}`,
 * and `POST …/runs/{run_id}/submit_tool_outputs` and `…/cancel`.
 */
export function registerRunRoutes(table: RouteTable, section: RouteSection, ctx: RunRouteContext): void {
  table.add(section, 'POST', '/v1/threads/{id}/runs', (call) => createRun(ctx, call));
  table.add(section, 'POST', '/v1/threads/runs', (call) => createThreadAndRun(ctx, call));
  registerRunStepRoutes(table, section, ctx);
  table.add(section, 'GET', '/v1/threads/{id}/runs', (call) => listRuns(ctx, call));
  table.add(section, 'GET', '/v1/threads/{id}/runs/{id}', (call) =>
    withRun(ctx, call, async (record) => json(200, record.run)),
  );
  table.add(section, 'POST', '/v1/threads/{id}/runs/{id}', (call) =>
    withRun(ctx, call, (record) => modifyRun(ctx, call, record)),
  );
  table.add(section, 'POST', '/v1/threads/{id}/runs/{id}/submit_tool_outputs', (call) =>
    withRun(ctx, call, (record) => submitToolOutputs(ctx, call, record)),
  );
  table.add(section, 'POST', '/v1/threads/{id}/runs/{id}/cancel', (call) =>
    withRun(ctx, call, (record) => cancelRun(ctx, call, record)),
  );
}

async function createRun(ctx: RunRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [threadId] = call.ids;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const invalidBody = checkCreateRun(parsed.body);
  if (invalidBody) return invalidBody;
  const { body } = parsed;
  return idempotentByPath(ctx.remembered, call, parsed.text, async () => {
    const assistant = await assistantOf(ctx, body);
    if (assistant && 'status' in assistant) return assistant;
    const messages = ((body.additional_messages as Array<Record<string, unknown>> | null | undefined) ?? []).map(
      toStoredMessage,
    );
    const settings = runSettings(body, assistant, ctx.runTimeoutMs);
    const result = await ctx.store.runs.createRun(threadId, settings, messages);
    if (result.kind === 'no-thread') return threadNotFound(threadId);
    if (result.kind === 'active') {
      return fail(400, { message: `Thread ${threadId} already has an active run ${result.runId}.` });
    }
    return startRun(ctx, result.run, body.stream === true ? 'created' : undefined);
  });
}

/** The assistant a run names (none without `assistant_id`), or the answer refusing it. */
export async function assistantOf(
  ctx: RunRouteContext,
  body: Record<string, unknown>,
): Promise<StoredAssistant | undefined | BackendAnswer> {
  if (typeof body.assistant_id !== 'string') return undefined;
  const assistant = await ctx.store.runs.getAssistant(body.assistant_id);
  if (!assistant) {
    return fail(404, { message: `No assistant found with id '${body.assistant_id}'.`, code: 'assistant_not_found' });
  }
  if (body.tools == null && assistant.tools.length > MAX_RUN_TOOLS) {
    return fail(400, {
      param: 'tools',
      message: `tools: the assistant has ${assistant.tools.length} tools and a run takes at most ${MAX_RUN_TOOLS}: give the run its own.`,
    });
  }
  return assistant;
}

async function listRuns(ctx: RunRouteContext, call: RouteCall<[string]>): Promise<BackendAnswer> {
  const [threadId] = call.ids;
  const query = parseListQuery(call.request.search ?? '');
  if ('status' in query) return query;
  const result = await ctx.store.runs.listRuns(threadId, query);
  if (result.kind === 'no-thread') return threadNotFound(threadId);
  if (result.kind === 'ok') {
    result.data = await Promise.all(
      result.data.map(async (run) => (await ctx.driver.current({ run, rounds: [] })).run),
    );
  }
  return listAnswer(result);
}

/** The run as it is now (a run past its expiry is expired first), or its 404. */
async function withRun(
  ctx: RunRouteContext,
  { ids: [threadId, runId] }: RunCall,
  answer: (record: RunRecord) => Promise<BackendAnswer>,
): Promise<BackendAnswer> {
  const stored = await ctx.store.runs.getRun(threadId, runId);
  if (!stored) return runNotFound(runId);
  return answer(await ctx.driver.current(stored));
}

/** Modify: only `metadata`, in any status, as the API allows; status and results never change here. */
async function modifyRun(ctx: RunRouteContext, call: RunCall, record: RunRecord): Promise<BackendAnswer> {
  const [threadId, runId] = call.ids;
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(parsed.body, MODIFY_FIELDS);
  if (extra) return extra;
  const found = parsed.body.metadata == null ? null : checkMetadata(parsed.body.metadata, 'metadata');
  if (found) return fail(400, found);
  const metadata = (parsed.body.metadata as Record<string, string> | null | undefined) ?? {};
  const updated = await ctx.store.runs.transitionRun(threadId, runId, [record.run.status], { metadata });
  return updated ? json(200, updated.run) : fail(409, { message: 'The run changed meanwhile; try again.' });
}

async function cancelRun(ctx: RunRouteContext, call: RunCall, record: RunRecord): Promise<BackendAnswer> {
  const [threadId, runId] = call.ids;
  const cancelling = await ctx.driver.cancel(threadId, runId);
  if (cancelling) return json(200, cancelling.run);
  const now = (await ctx.store.runs.getRun(threadId, runId))?.run ?? record.run;
  return fail(400, { message: `Cannot cancel run with status '${now.status}'.` });
}

/** The outputs of the run's last tool round, exactly one per call; the run is queued again. */
async function submitToolOutputs(ctx: RunRouteContext, call: RunCall, record: RunRecord): Promise<BackendAnswer> {
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const invalidBody = unknownField(parsed.body, TOOL_OUTPUTS_FIELDS) ?? checkStream(parsed.body.stream);
  if (invalidBody) return invalidBody;
  const found = checkToolOutputs(parsed.body.tool_outputs, 'tool_outputs');
  if (found) return fail(400, found);
  const outputs = parsed.body.tool_outputs as Array<{ tool_call_id: string; output: string }>;
  const { run } = record;
  if (run.status !== 'requires_action' || !run.required_action) {
    return fail(400, { message: `Runs in status "${run.status}" do not accept tool outputs.` });
  }
  const required = run.required_action.submit_tool_outputs.tool_calls.map((toolCall) => toolCall.id);
  const given = outputs.map((output) => output.tool_call_id);
  if (
    given.length !== required.length ||
    new Set(given).size !== given.length ||
    !given.every((id) => required.includes(id))
  ) {
    return fail(400, {
      message: `tool_outputs: give exactly one output for each of the run's tool calls (${required.join(', ')}).`,
      param: 'tool_outputs',
    });
  }
  const rounds = record.rounds.map((round, index) =>
    index === record.rounds.length - 1
      ? {
          ...round,
          outputs: outputs.map(({ tool_call_id, output }) => ({ tool_call_id, output })),
          completed_at: Math.floor(Date.now() / 1000),
        }
      : round,
  );
  const patch = { status: 'queued' as const, required_action: null, rounds };
  const queued = await ctx.store.runs.transitionRun(run.thread_id, run.id, ['requires_action'], patch);
  if (!queued) {
    return fail(400, { message: 'The run no longer accepts tool outputs (it was cancelled or expired).' });
  }
  return startRun(ctx, queued.run, parsed.body.stream === true ? 'queued' : undefined, queued.rounds.at(-1));
}

/**
 * Hands a `queued` run to the driver and answers it: as JSON, or (`stream`) as the stream of its
 * events, followed before the driver starts so none is missed.
 */
export function startRun(
  ctx: RunRouteContext,
  run: StoredRun,
  stream: 'created' | 'queued' | undefined,
  answered?: ToolRound,
): BackendAnswer {
  const reader = stream && ctx.events.follow(run.id);
  ctx.driver.start(run);
  return reader ? eventStream(new RunStream(ctx.store, reader, run, stream, answered)) : json(200, run);
}
