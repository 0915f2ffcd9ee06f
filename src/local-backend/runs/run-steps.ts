import { derivedObjectId } from '../store/object-id.ts';
import type { RunRecord, RunToolCall, RunUsage, StoredRun, ToolRound } from '../store/run-store.ts';
import type { Store, StoredMessage } from '../store/store.ts';

/**
 * A run's steps (`thread.run.step`), as the API's description has them: one `tool_calls` step per
 * model turn that ended in tool calls, and one `message_creation` step for the answer it wrote.
 * They are derived from what the run keeps (its tool rounds, the messages carrying its id), never
 * stored apart: a step is named after what it is about (its message, its first tool call), so a
 * read and a stream name it alike.
 */
export type StepStatus = 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired';

export function messageStepId(messageId: string): string {
  return derivedObjectId('step', `message:${messageId}`);
}

export function toolStepId(calls: readonly RunToolCall[]): string {
  return derivedObjectId('step', `tools:${calls[0]?.id ?? ''}`);
}

function stepBase(run: StoredRun, id: string, createdAt: number) {
  return {
    id,
    object: 'thread.run.step' as const,
    created_at: createdAt,
    assistant_id: run.assistant_id,
    thread_id: run.thread_id,
    run_id: run.id,
    last_error: null as StoredRun['last_error'],
    expired_at: null as number | null,
    cancelled_at: null as number | null,
    failed_at: null as number | null,
    completed_at: null as number | null,
    metadata: {},
  };
}

/**
 * A message step: `in_progress` while the message is written (no usage yet), `completed` once it
 * is, with what its turn used.
 */
export function messageStep(
  run: StoredRun,
  messageId: string,
  createdAt: number,
  done?: { at: number; usage: RunUsage },
) {
  return {
    ...stepBase(run, messageStepId(messageId), createdAt),
    type: 'message_creation' as const,
    status: (done ? 'completed' : 'in_progress') as StepStatus,
    step_details: { type: 'message_creation' as const, message_creation: { message_id: messageId } },
    completed_at: done?.at ?? null,
    usage: done?.usage ?? null,
  };
}

/** How a round still waiting for outputs ends with its run: its status and the time it ended. */
function waitingStatus(run: StoredRun): { status: StepStatus; at: Partial<Record<string, number | null>> } {
  switch (run.status) {
    case 'cancelled':
      return { status: 'cancelled', at: { cancelled_at: run.cancelled_at } };
    case 'expired':
      return { status: 'expired', at: { expired_at: run.expires_at } };
    case 'failed':
      return { status: 'failed', at: { failed_at: run.failed_at } };
    default:
      return { status: 'in_progress', at: {} };
  }
}

/** A tool-calls step: its calls with their outputs (null until submitted). */
export function toolStep(run: StoredRun, round: ToolRound) {
  const createdAt = round.created_at ?? run.started_at ?? run.created_at;
  const outputs = new Map((round.outputs ?? []).map((output) => [output.tool_call_id, output.output]));
  const answered = round.outputs !== null;
  const ended = answered ? { status: 'completed' as StepStatus, at: {} } : waitingStatus(run);
  return {
    ...stepBase(run, toolStepId(round.tool_calls), createdAt),
    ...ended.at,
    type: 'tool_calls' as const,
    status: ended.status,
    step_details: {
      type: 'tool_calls' as const,
      tool_calls: round.tool_calls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { ...call.function, output: outputs.get(call.id) ?? null },
      })),
    },
    completed_at: answered ? (round.completed_at ?? createdAt) : null,
    last_error: ended.status === 'failed' ? run.last_error : null,
    usage: round.usage,
  };
}

function minus(total: RunUsage | null, parts: ReadonlyArray<RunUsage | null>): RunUsage | null {
  if (!total) return null;
  const left = { ...total };
  for (const part of parts) {
    if (!part) continue;
    left.prompt_tokens -= part.prompt_tokens;
    left.completion_tokens -= part.completion_tokens;
    left.total_tokens -= part.total_tokens;
  }
  return left;
}

/** The run's answer messages (those carrying its id), oldest first. */
async function answers(store: Store, run: StoredRun): Promise<StoredMessage[]> {
  const page = await store.listMessages(run.thread_id, { limit: 100, order: 'asc', run_id: run.id });
  return page.kind === 'ok' ? page.data.filter((message) => message.role === 'assistant') : [];
}

/** Every step of the run so far, oldest first. */
export async function runSteps(store: Store, record: RunRecord) {
  const { run, rounds } = record;
  const steps: Array<ReturnType<typeof toolStep> | ReturnType<typeof messageStep>> = rounds.map((round) =>
    toolStep(run, round),
  );
  for (const message of await answers(store, run)) steps.push(answerStep(record, message));
  return steps;
}

/** The step of an answer the run wrote: completed, with what its turn used (the run's usage less its tool rounds'). */
export function answerStep(record: RunRecord, message: Pick<StoredMessage, 'id' | 'created_at'>) {
  const { run, rounds } = record;
  const usage = minus(
    run.usage,
    rounds.map((round) => round.usage),
  ) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const at = run.completed_at ?? run.failed_at ?? message.created_at;
  return messageStep(run, message.id, message.created_at, { at, usage });
}
