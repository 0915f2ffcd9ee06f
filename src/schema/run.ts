import { DEFAULT_PAGE_SIZE } from '../domain/message-pagination.ts';
import type { RunError, RunToolCall, RunUsage } from '../domain/run.ts';
import { type RUN_STATUSES, type Run, runGlobalId, submitProblem, TERMINAL_RUN_STATUSES } from '../domain/run.ts';
import { badUserInput, ErrorCode, GatewayError } from '../errors.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { UpstreamMessage } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { idempotentCreate } from './idempotent-create.ts';
import { NodeRef } from './node.ts';
import { assertIdempotencyKey, RunInput, runIdOf, ToolOutputInput, toNewRun, toToolOutputs } from './run-input.ts';
import { ThreadRef } from './thread.ts';
import { assertThreadId } from './thread-input.ts';
import { ThreadMessageRef } from './thread-message.ts';

const RunStatusRef = builder.enumType('RunStatus', {
  description: 'Where a run is in its life. CANCELLED, FAILED, COMPLETED, INCOMPLETE and EXPIRED are final.',
  values: {
    QUEUED: { value: 'queued', description: 'Waiting to start.' },
    IN_PROGRESS: { value: 'in_progress', description: 'The model is working.' },
    REQUIRES_ACTION: {
      value: 'requires_action',
      description: 'Waiting for the outputs of `requiredToolCalls` (submitToolOutputs).',
    },
    CANCELLING: { value: 'cancelling', description: 'Asked to stop; not stopped yet.' },
    CANCELLED: { value: 'cancelled', description: 'Stopped by cancelRun (final).' },
    FAILED: { value: 'failed', description: 'Ended with an error; see `lastError` (final).' },
    COMPLETED: { value: 'completed', description: 'Finished; its messages are written (final).' },
    INCOMPLETE: {
      value: 'incomplete',
      description: 'Ended early, e.g. out of tokens; see `incompleteReason` (final).',
    },
    EXPIRED: { value: 'expired', description: 'Not finished in time, e.g. tool outputs not submitted (final).' },
  } satisfies Record<string, { value: (typeof RUN_STATUSES)[number]; description: string }>,
});

const RunErrorRef = builder.objectRef<RunError>('RunError').implement({
  description: 'Why a run failed (the API’s `last_error`).',
  fields: (t) => ({
    code: t.exposeString('code', {
      description: 'The API’s code: `server_error`, `rate_limit_exceeded`, `invalid_prompt`, or another it reports.',
    }),
    message: t.exposeString('message', { description: 'The upstream’s description of the error.' }),
  }),
});

const ToolCallRef = builder.objectRef<RunToolCall>('ToolCall').implement({
  description: 'A function call a run waits on: answer it with submitToolOutputs.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The tool call id, to give as `toolOutputs[].toolCallId`.' }),
    name: t.exposeString('name', { description: 'The function’s name.' }),
    arguments: t.exposeString('arguments', { description: 'The arguments the model chose, as a JSON text.' }),
  }),
});

const RunUsageRef = builder.objectRef<RunUsage>('RunUsage').implement({
  description: 'Tokens a run used over all its steps.',
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens of the prompts.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the model wrote.' }),
    totalTokens: t.exposeInt('totalTokens', { description: 'Prompt and completion tokens together.' }),
  }),
});

/** A run's messages are few; read on past one page rather than cut them off. */
const RUN_MESSAGES_PAGE = 100;

async function runMessages(ctx: GatewayContext, run: Run): Promise<UpstreamMessage[]> {
  const messages: UpstreamMessage[] = [];
  let after: string | undefined;
  for (;;) {
    const params = { limit: RUN_MESSAGES_PAGE, order: 'asc' as const, run_id: run.id, ...(after ? { after } : {}) };
    const page = await ctx.loaders.messages.page(run.threadId, params);
    if (!page) return messages;
    messages.push(...page.data);
    const last = page.data.at(-1);
    if (!page.hasMore || !last) return messages;
    after = last.id;
  }
}

export const RunRef = builder.objectRef<Run>('Run').implement({
  description:
    'A run of an assistant (or a model) on a thread. Runs are asynchronous: read one again (`run`) to see it move on.',
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.id({
      description:
        'The run’s global id: it names the thread and the run, so `node(id:)` can read it. Every argument that takes a run id takes it too.',
      resolve: (run) => runGlobalId(run.threadId, run.id),
    }),
    runId: t.exposeID('id', {
      description: 'The upstream’s run id (`run_…`), as messages name it in `runId`.',
    }),
    threadId: t.exposeID('threadId', { description: 'The id of the thread the run runs on.' }),
    thread: t.field({
      type: ThreadRef,
      nullable: true,
      description:
        'The thread, through the request’s thread loader (many runs of one thread cost one read); null when it no longer exists.',
      extensions: { cost: { upstreamCalls: 1, loads: 'Thread', unlessLoaded: 'Thread' } },
      resolve: (run, _args, ctx) => ctx.loaders.thread.load(run.threadId),
    }),
    assistantId: t.exposeString('assistantId', {
      nullable: true,
      description: 'The assistant the run runs, when it has one.',
    }),
    status: t.field({ type: RunStatusRef, description: 'Where the run is in its life.', resolve: (run) => run.status }),
    model: t.exposeString('model', { nullable: true, description: 'The model the run uses.' }),
    instructions: t.exposeString('instructions', {
      nullable: true,
      description: 'The instructions the run uses.',
    }),
    tools: t.field({
      type: 'JSON',
      description: 'The tools the run may use, in the Threads API’s shape; `[]` when none.',
      resolve: (run) => run.tools,
    }),
    metadata: t.field({
      type: 'JSON',
      description: 'Up to 16 string key/value pairs attached to the run; `{}` when it has none.',
      resolve: (run) => run.metadata,
    }),
    createdAt: t.exposeInt('createdAt', { nullable: true, description: 'When the run was created, in Unix seconds.' }),
    startedAt: t.exposeInt('startedAt', { nullable: true, description: 'When it started, in Unix seconds.' }),
    completedAt: t.exposeInt('completedAt', { nullable: true, description: 'When it completed, in Unix seconds.' }),
    failedAt: t.exposeInt('failedAt', { nullable: true, description: 'When it failed, in Unix seconds.' }),
    cancelledAt: t.exposeInt('cancelledAt', { nullable: true, description: 'When it was cancelled, in Unix seconds.' }),
    lastError: t.field({
      type: RunErrorRef,
      nullable: true,
      description: 'Why the run failed; null unless it did.',
      resolve: (run) => run.lastError,
    }),
    incompleteReason: t.exposeString('incompleteReason', {
      nullable: true,
      description: 'Why the run ended INCOMPLETE (e.g. `max_completion_tokens`); null otherwise.',
    }),
    requiredToolCalls: t.field({
      type: [ToolCallRef],
      description: 'The function calls the run waits on; `[]` unless it is REQUIRES_ACTION.',
      extensions: { cost: { listSize: 128 } },
      resolve: (run) => run.requiredToolCalls,
    }),
    usage: t.field({
      type: RunUsageRef,
      nullable: true,
      description: 'Tokens used; null until the upstream reports them (usually once the run is final).',
      resolve: (run) => run.usage,
    }),
    messages: t.field({
      type: [ThreadMessageRef],
      description:
        'The messages this run wrote, oldest first: one list call per run (filtered by `run_id`), more only past 100 messages.',
      // One filtered list per run; a run writes few messages, counted as one default page.
      extensions: { cost: { upstreamCalls: 1, listSize: DEFAULT_PAGE_SIZE } },
      resolve: (run, _args, ctx) => runMessages(ctx, run),
    }),
  }),
});

function threadIdOf(value: string | number): string {
  const threadId = String(value);
  assertThreadId(threadId, 'threadId');
  return threadId;
}

/** The run as the upstream reports it now, or NOT_FOUND: the one read a write to a run needs first. */
async function currentRun(ctx: GatewayContext, threadId: string, runId: string): Promise<Run> {
  const run = await ctx.loaders.runs.run(threadId, runId);
  if (!run) throw new GatewayError(ErrorCode.NOT_FOUND, 'The run was not found.');
  return run;
}

function written(ctx: GatewayContext, run: Run): Run {
  ctx.loaders.runs.primeRun(run);
  // A run writes messages to its thread as it goes: the request reads them afresh.
  ctx.loaders.messages.forgetThread(run.threadId);
  return run;
}

builder.queryField('run', (t) =>
  t.field({
    type: RunRef,
    nullable: true,
    description: 'The run with this id on this thread, as the upstream reports it now; null when there is none.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      id: t.arg.id({ required: true, description: 'The run id (`run_…`) or the Run’s global id.' }),
    },
    extensions: { cost: { batched: { loader: 'run', keyArgs: ['threadId', 'id'] } } },
    resolve: (_root, args, ctx) => {
      const threadId = threadIdOf(args.threadId);
      return ctx.loaders.runs.run(threadId, runIdOf(threadId, args.id, 'id'));
    },
  }),
);

builder.mutationFields((t) => ({
  createRun: t.field({
    type: RunRef,
    description:
      'Starts a run on a thread and answers with the run as the upstream first reports it (usually QUEUED); read it again with `run` to follow it. Never sent upstream twice by the gateway; when the outcome is unknown the error says `extensions.outcome: "unknown"`, and a retry with the same `idempotencyKey` is safe.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      input: t.arg({ type: RunInput, required: true, description: 'The run.' }),
      idempotencyKey: t.arg.string({
        description:
          'Makes the create safe to retry: the same key from the same caller within 24 hours returns the run first created for it instead of starting another; the same key with a different input is IDEMPOTENCY_CONFLICT. 1 to 255 printable ASCII characters.',
      }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const threadId = threadIdOf(args.threadId);
      const body = toNewRun(args.input);
      assertIdempotencyKey(args.idempotencyKey, 'idempotencyKey');
      try {
        const run = await idempotentCreate(ctx, args.idempotencyKey, { createRun: threadId, ...body }, 'run', (key) =>
          ctx.upstream.createRun(threadId, body, key),
        );
        return written(ctx, run);
      } finally {
        ctx.loaders.messages.forgetThread(threadId);
      }
    },
  }),
  submitToolOutputs: t.field({
    type: RunRef,
    description:
      'Answers the required tool calls of a REQUIRES_ACTION run, one output for each, and answers with the run as the upstream reports it then. The run is read first (one upstream call): a run in another status, or outputs that do not match its required tool calls exactly, is BAD_USER_INPUT with nothing sent.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      runId: t.arg.id({ required: true, description: 'The run id (`run_…`) or the Run’s global id.' }),
      toolOutputs: t.arg({
        type: [ToolOutputInput],
        required: true,
        description: 'One output per required tool call, each at most 512 KB.',
      }),
    },
    // Reads the run first, to refuse a wrong state or tool call ids before sending anything.
    extensions: { cost: { upstreamCalls: 2 } },
    resolve: async (_root, args, ctx) => {
      const threadId = threadIdOf(args.threadId);
      const runId = runIdOf(threadId, args.runId, 'runId');
      const outputs = toToolOutputs(args.toolOutputs);
      const run = await currentRun(ctx, threadId, runId);
      const problem = submitProblem(run, outputs);
      if (problem) throw badUserInput(problem.message, problem.argument);
      return written(ctx, await ctx.upstream.submitToolOutputs(threadId, runId, outputs));
    },
  }),
  cancelRun: t.field({
    type: RunRef,
    description:
      'Asks a run to stop and answers with it as the upstream reports it then (usually CANCELLING). The run is read first (one upstream call): a run already in a final status cannot change, BAD_USER_INPUT with nothing sent; a run already CANCELLING is answered as it is, nothing sent (a repeated cancel succeeds).',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      runId: t.arg.id({ required: true, description: 'The run id (`run_…`) or the Run’s global id.' }),
    },
    // Reads the run first, to refuse a wrong state or tool call ids before sending anything.
    extensions: { cost: { upstreamCalls: 2 } },
    resolve: async (_root, args, ctx) => {
      const threadId = threadIdOf(args.threadId);
      const runId = runIdOf(threadId, args.runId, 'runId');
      const run = await currentRun(ctx, threadId, runId);
      if (TERMINAL_RUN_STATUSES.has(run.status)) {
        throw badUserInput(
          `runId: the run is ${run.status.toUpperCase()}, a final status; it cannot be cancelled`,
          'runId',
        );
      }
      // Asked to stop already: the Threads API would refuse a second cancel; the first one stands.
      if (run.status === 'cancelling') return run;
      return written(ctx, await ctx.upstream.cancelRun(threadId, runId));
    },
  }),
}));
