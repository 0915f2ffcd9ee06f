import { checkToolResources } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail } from '../http/answer.ts';
import { readObject, unknownField } from '../http/body.ts';
import { idempotentByPath } from '../http/idempotency.ts';
import type { RouteCall } from '../http/route-table.ts';
import { checkCreate } from '../threads/thread-checks.ts';
import { toStoredMessage } from '../threads/wire-message.ts';
import type { RunRouteContext } from './route-kit.ts';
import { assistantOf, startRun } from './run-routes.ts';
import { checkCreateRun, runSettings, THREAD_AND_RUN_FIELDS } from './run-settings.ts';

/** A refusal of the nested thread, its parameter named from the top (`thread.messages[0]…`). */
function underThread(answer: BackendAnswer): BackendAnswer {
  const body = JSON.parse(answer.body) as { error: { param: string | null; message: string } };
  if (body.error.param) body.error.param = `thread.${body.error.param}`;
  return { ...answer, body: JSON.stringify(body) };
}

/**
 * "Create thread and run": the thread as `POST /v1/threads` makes it, then its run as `POST
 * …/runs` makes it (the same checks, answers and stream). The top-level `tool_resources` are the
 * thread's when its own `thread` names none.
 */
export async function createThreadAndRun(ctx: RunRouteContext, call: RouteCall<[]>): Promise<BackendAnswer> {
  const parsed = await readObject(call.request);
  if ('error' in parsed) return parsed.error;
  const { body } = parsed;
  const extra = unknownField(body, THREAD_AND_RUN_FIELDS);
  if (extra) return extra;
  const { thread = {}, tool_resources: resources, ...runBody } = body;
  if (thread === null || typeof thread !== 'object' || Array.isArray(thread)) {
    return fail(400, { param: 'thread', message: 'thread: must be an object' });
  }
  const threadBody = thread as Record<string, unknown>;
  const invalidThread = checkCreate(threadBody);
  if (invalidThread) return underThread(invalidThread);
  const invalidResources = resources == null ? null : checkToolResources(resources, 'tool_resources');
  if (invalidResources) return fail(400, invalidResources);
  const invalidRun = checkCreateRun(runBody);
  if (invalidRun) return invalidRun;
  return idempotentByPath(ctx.remembered, call, parsed.text, async () => {
    const assistant = await assistantOf(ctx, runBody);
    if (assistant && 'status' in assistant) return assistant;
    const created = await ctx.store.createThread({
      metadata: (threadBody.metadata as Record<string, string> | null | undefined) ?? null,
      tool_resources: ((threadBody.tool_resources ?? resources) as Record<string, unknown> | null | undefined) ?? null,
      messages: ((threadBody.messages as Array<Record<string, unknown>> | null | undefined) ?? []).map(toStoredMessage),
    });
    const result = await ctx.store.runs.createRun(created.id, runSettings(runBody, assistant, ctx.runTimeoutMs), []);
    if (result.kind !== 'ok') return fail(409, { message: 'The new thread changed meanwhile; try again.' });
    return startRun(ctx, result.run, runBody.stream === true ? 'created' : undefined);
  });
}
