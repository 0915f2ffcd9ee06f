import { checkMetadata, checkWireMessage } from '../../domain/thread-rules.ts';
import type { BackendAnswer, BackendRequest } from '../backend.ts';
import type { NewStoredRun, RunRecord, StoredAssistant } from '../store/run-store.ts';
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
import {
  checkModel,
  checkNumber,
  checkPositiveInteger,
  checkResponseFormat,
  checkText,
  checkToolChoice,
  checkToolOutputs,
  checkTools,
  checkTruncation,
  MAX_INSTRUCTIONS_CHARACTERS,
} from './run-rules.ts';
import { toStoredMessage } from './wire-message.ts';

const CREATE_FIELDS = [
  'assistant_id',
  'model',
  'reasoning_effort',
  'instructions',
  'additional_instructions',
  'additional_messages',
  'tools',
  'metadata',
  'temperature',
  'top_p',
  'stream',
  'max_prompt_tokens',
  'max_completion_tokens',
  'truncation_strategy',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
] as const;

export function threadNotFound(ctx: RunRouteContext, id: string): BackendAnswer {
  return fail(ctx, 404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
}

function runNotFound(ctx: RunRouteContext, id: string): BackendAnswer {
  return fail(ctx, 404, { message: `No run found with id '${id}'.`, code: 'run_not_found' });
}

/** Streaming runs (server-sent events) are not served yet: the 400 says so, and polling works. */
function noStreaming(ctx: RunRouteContext, stream: unknown): BackendAnswer | null {
  if (stream == null || stream === false) return null;
  return fail(ctx, 400, {
    message: 'stream: the local backend does not stream runs yet; create the run without stream and poll it.',
    param: 'stream',
    code: 'unsupported_parameter',
  });
}

function checkCreateRun(ctx: RunRouteContext, body: Record<string, unknown>): BackendAnswer | null {
  const extra = unknownField(ctx, body, CREATE_FIELDS) ?? noStreaming(ctx, body.stream);
  if (extra) return extra;
  if (body.assistant_id == null && body.model == null) {
    return fail(ctx, 400, {
      message: "Missing required parameter: 'assistant_id' (or, on the local backend, 'model').",
      param: 'assistant_id',
      code: 'missing_required_parameter',
    });
  }
  if (body.assistant_id != null && typeof body.assistant_id !== 'string') {
    return invalid(ctx, { param: 'assistant_id', message: 'assistant_id: must be a string' });
  }
  const messages = body.additional_messages;
  if (messages != null && !Array.isArray(messages)) {
    return invalid(ctx, { param: 'additional_messages', message: 'additional_messages: must be an array' });
  }
  for (const [index, message] of (messages ?? []).entries()) {
    const found = checkWireMessage(message, `additional_messages[${index}]`);
    if (found) return invalid(ctx, found);
  }
  if (body.parallel_tool_calls != null && typeof body.parallel_tool_calls !== 'boolean') {
    return invalid(ctx, { param: 'parallel_tool_calls', message: 'parallel_tool_calls: must be a boolean' });
  }
  const found =
    (body.model == null ? null : checkModel(body.model, 'model')) ??
    checkText(body.instructions, 'instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkText(body.additional_instructions, 'additional_instructions', MAX_INSTRUCTIONS_CHARACTERS) ??
    checkTools(body.tools, 'tools') ??
    (body.metadata == null ? null : checkMetadata(body.metadata, 'metadata')) ??
    checkNumber(body.temperature, 'temperature', 0, 2) ??
    checkNumber(body.top_p, 'top_p', 0, 1) ??
    checkPositiveInteger(body.max_prompt_tokens, 'max_prompt_tokens') ??
    checkPositiveInteger(body.max_completion_tokens, 'max_completion_tokens') ??
    checkTruncation(body.truncation_strategy, 'truncation_strategy') ??
    checkToolChoice(body.tool_choice, 'tool_choice') ??
    checkResponseFormat(body.response_format, 'response_format') ??
    checkText(body.reasoning_effort, 'reasoning_effort', 32);
  return found ? invalid(ctx, found) : null;
}

/** The run's settings: the request's where given, else the assistant's, else the API's defaults. */
function runSettings(
  body: Record<string, unknown>,
  assistant: StoredAssistant | undefined,
  timeoutMs: number,
): NewStoredRun {
  const base = (body.instructions as string | null | undefined) ?? assistant?.instructions ?? '';
  const extra = (body.additional_instructions as string | null | undefined) ?? '';
  const truncation = body.truncation_strategy as {
    type: 'auto' | 'last_messages';
    last_messages?: number | null;
  } | null;
  return {
    assistant_id: assistant?.id ?? null,
    model: (body.model as string | null | undefined) ?? assistant?.model ?? '',
    instructions: [base, extra].filter(Boolean).join('\n\n'),
    tools: (body.tools as unknown[] | null | undefined) ?? assistant?.tools ?? [],
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
    temperature: (body.temperature as number | null | undefined) ?? assistant?.temperature ?? 1,
    top_p: (body.top_p as number | null | undefined) ?? assistant?.top_p ?? 1,
    max_prompt_tokens: (body.max_prompt_tokens as number | null | undefined) ?? null,
    max_completion_tokens: (body.max_completion_tokens as number | null | undefined) ?? null,
    truncation_strategy: truncation
      ? { type: truncation.type, last_messages: truncation.last_messages ?? null }
      : { type: 'auto', last_messages: null },
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: (body.parallel_tool_calls as boolean | null | undefined) ?? true,
    response_format: body.response_format ?? assistant?.response_format ?? 'auto',
    timeoutMs,
  };
}

async function createRun(ctx: RunRouteContext, request: BackendRequest, threadId: string): Promise<BackendAnswer> {
  const parsed = await readObject(ctx, request);
  if ('error' in parsed) return parsed.error;
  const invalidBody = checkCreateRun(ctx, parsed.body);
  if (invalidBody) return invalidBody;
  const { body } = parsed;
  return idempotent(ctx, request, parsed.text, async () => {
    let assistant: StoredAssistant | undefined;
    if (typeof body.assistant_id === 'string') {
      assistant = await ctx.deps.store.runs.getAssistant(body.assistant_id);
      if (!assistant) {
        return fail(ctx, 404, {
          message: `No assistant found with id '${body.assistant_id}'.`,
          code: 'assistant_not_found',
        });
      }
    }
    const messages = ((body.additional_messages as Array<Record<string, unknown>> | null | undefined) ?? []).map(
      toStoredMessage,
    );
    const result = await ctx.deps.store.runs.createRun(
      threadId,
      runSettings(body, assistant, ctx.runTimeoutMs),
      messages,
    );
    if (result.kind === 'no-thread') return threadNotFound(ctx, threadId);
    if (result.kind === 'active') {
      return fail(ctx, 400, { message: `Thread ${threadId} already has an active run ${result.runId}.` });
    }
    ctx.driver.start(result.run);
    return ctx.deps.json(200, result.run);
  });
}

async function submitToolOutputs(
  ctx: RunRouteContext,
  request: BackendRequest,
  record: RunRecord,
): Promise<BackendAnswer> {
  const parsed = await readObject(ctx, request);
  if ('error' in parsed) return parsed.error;
  const invalidBody =
    unknownField(ctx, parsed.body, ['tool_outputs', 'stream']) ?? noStreaming(ctx, parsed.body.stream);
  if (invalidBody) return invalidBody;
  const found = checkToolOutputs(parsed.body.tool_outputs, 'tool_outputs');
  if (found) return invalid(ctx, found);
  const outputs = parsed.body.tool_outputs as Array<{ tool_call_id: string; output: string }>;
  const { run } = record;
  if (run.status !== 'requires_action' || !run.required_action) {
    return fail(ctx, 400, { message: `Runs in status "${run.status}" do not accept tool outputs.` });
  }
  const required = run.required_action.submit_tool_outputs.tool_calls.map((call) => call.id);
  const given = outputs.map((output) => output.tool_call_id);
  if (
    given.length !== required.length ||
    new Set(given).size !== given.length ||
    !given.every((id) => required.includes(id))
  ) {
    return fail(ctx, 400, {
      message: `tool_outputs: give exactly one output for each of the run's tool calls (${required.join(', ')}).`,
      param: 'tool_outputs',
    });
  }
  const rounds = record.rounds.map((round, index) =>
    index === record.rounds.length - 1
      ? { ...round, outputs: outputs.map(({ tool_call_id, output }) => ({ tool_call_id, output })) }
      : round,
  );
  const queued = await ctx.deps.store.runs.transitionRun(run.thread_id, run.id, ['requires_action'], {
    status: 'queued',
    required_action: null,
    rounds,
  });
  if (!queued)
    return fail(ctx, 400, { message: 'The run no longer accepts tool outputs (it was cancelled or expired).' });
  ctx.driver.start(queued.run);
  return ctx.deps.json(200, queued.run);
}

async function onRun(ctx: RunRouteContext, request: BackendRequest, threadId: string, runId: string, action?: string) {
  const stored = await ctx.deps.store.runs.getRun(threadId, runId);
  if (!stored) return runNotFound(ctx, runId);
  const record = await ctx.driver.current(stored);
  if (action === 'submit_tool_outputs') return submitToolOutputs(ctx, request, record);
  if (action === 'cancel') {
    const cancelling = await ctx.driver.cancel(threadId, runId);
    if (cancelling) return ctx.deps.json(200, cancelling.run);
    const now = (await ctx.deps.store.runs.getRun(threadId, runId))?.run ?? record.run;
    return fail(ctx, 400, { message: `Cannot cancel run with status '${now.status}'.` });
  }
  if (request.method === 'GET') return ctx.deps.json(200, record.run);
  // Modify: only `metadata`, in any status, as the API allows; status and results never change here.
  const parsed = await readObject(ctx, request);
  if ('error' in parsed) return parsed.error;
  const extra = unknownField(ctx, parsed.body, ['metadata']);
  if (extra) return extra;
  const found = parsed.body.metadata == null ? null : checkMetadata(parsed.body.metadata, 'metadata');
  if (found) return invalid(ctx, found);
  const metadata = (parsed.body.metadata as Record<string, string> | null | undefined) ?? {};
  const updated = await ctx.deps.store.runs.transitionRun(threadId, runId, [record.run.status], { metadata });
  return updated
    ? ctx.deps.json(200, updated.run)
    : fail(ctx, 409, { message: 'The run changed meanwhile; try again.' });
}

/**
 * `POST` / `GET /v1/threads/{thread_id}/runs`, `GET` / `POST /v1/threads/{thread_id}/runs/{run_id}`,
 * and `POST …/runs/{run_id}/submit_tool_outputs` and `…/cancel`.
 */
export async function handleRuns(
  ctx: RunRouteContext,
  request: BackendRequest,
  threadId: string,
  runId: string | undefined,
  action: string | undefined,
): Promise<BackendAnswer> {
  if (runId === undefined) {
    if (request.method === 'POST') return createRun(ctx, request, threadId);
    if (request.method !== 'GET') return notAllowed(ctx, request.method);
    const query = parseListQuery(ctx, request.search ?? '');
    if ('status' in query) return query;
    const result = await ctx.deps.store.runs.listRuns(threadId, query);
    if (result.kind === 'no-thread') return threadNotFound(ctx, threadId);
    if (result.kind === 'ok')
      result.data = await Promise.all(
        result.data.map(async (run) => (await ctx.driver.current({ run, rounds: [] })).run),
      );
    return listAnswer(ctx, result);
  }
  if (action !== undefined ? request.method !== 'POST' : request.method !== 'GET' && request.method !== 'POST') {
    return notAllowed(ctx, request.method);
  }
  return onRun(ctx, request, threadId, runId, action);
}
