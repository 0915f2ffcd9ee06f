import { THREAD_ID_PATTERN } from './thread-rules.ts';

/**
 * A run as the graph serves it, whatever API runs it: the Threads API's `thread.run` today, a
 * Responses-based run later. Adapters map their answers into these shapes (snake_case stays inside
 * the JSON fields only), so no resolver sees an SDK type.
 */

/** The Threads API's run statuses, in its own spelling; an adapter maps anything else or refuses it. */
export const RUN_STATUSES = [
  'queued',
  'in_progress',
  'requires_action',
  'cancelling',
  'cancelled',
  'failed',
  'completed',
  'incomplete',
  'expired',
] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses a run never leaves: nothing may change it any more. */
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'cancelled',
  'failed',
  'completed',
  'incomplete',
  'expired',
]);

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

/** A function call the run waits on (`required_action.submit_tool_outputs.tool_calls[]`). */
export interface RunToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface RunUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface RunError {
  code: string;
  message: string;
}

export interface Run {
  /** Marks the object for the Node interface's type resolution. */
  readonly object: 'thread.run';
  /** The upstream's run id (`run_…`). */
  id: string;
  threadId: string;
  assistantId: string | null;
  status: RunStatus;
  model: string | null;
  instructions: string | null;
  /** The Threads API's tool objects, as the upstream reported them. */
  tools: unknown[];
  metadata: Record<string, string>;
  createdAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  cancelledAt: number | null;
  lastError: RunError | null;
  incompleteReason: string | null;
  /** Empty unless the run is `requires_action`. */
  requiredToolCalls: RunToolCall[];
  usage: RunUsage | null;
}

/** One page of a thread's runs. */
export interface RunPage {
  data: Run[];
  hasMore: boolean;
}

/** One output for one of the run's required tool calls. */
export interface ToolOutput {
  toolCallId: string;
  output: string;
}

const GLOBAL_PREFIX = 'run:';

/**
 * A run's global id. Run ids alone do not say which thread to read the run from, so the global id
 * names both, the same way message cursors do: `node(id:)` can then resolve a run with one read.
 */
export function runGlobalId(threadId: string, runId: string): string {
  return Buffer.from(`${GLOBAL_PREFIX}${threadId}/${runId}`).toString('base64url');
}

/** The thread and run a global id names, or undefined when it is not a run global id we handed out. */
export function parseRunGlobalId(value: string): { threadId: string; runId: string } | undefined {
  // Two ids of at most 128 characters and the prefix, in base64url.
  if (!/^[A-Za-z0-9_-]{8,360}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  if (!text.startsWith(GLOBAL_PREFIX)) return undefined;
  const [threadId, runId, extra] = text.slice(GLOBAL_PREFIX.length).split('/');
  if (threadId === undefined || runId === undefined || extra !== undefined) return undefined;
  if (!THREAD_ID_PATTERN.test(threadId) || !THREAD_ID_PATTERN.test(runId)) return undefined;
  // Round-trip, so only the one spelling we hand out is accepted.
  return runGlobalId(threadId, runId) === value ? { threadId, runId } : undefined;
}

const CURSOR_PREFIX = 'runc:';

/** An opaque cursor for a run of a thread's `runs` connection, naming the thread too. */
export function runCursor(threadId: string, runId: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${threadId}/${runId}`).toString('base64url');
}

/** The run id a cursor names, or undefined when it is not one we handed out for this thread. */
export function cursorRunId(cursor: string, threadId: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,360}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${CURSOR_PREFIX}${threadId}/`;
  if (!text.startsWith(prefix)) return undefined;
  const id = text.slice(prefix.length);
  return THREAD_ID_PATTERN.test(id) && runCursor(threadId, id) === cursor ? id : undefined;
}

/**
 * Why tool outputs cannot be submitted to this run, or null: the run must be waiting for them
 * (`requires_action`), and the outputs must answer exactly its required tool calls, each once.
 */
export function submitProblem(run: Run, outputs: readonly ToolOutput[]): { argument: string; message: string } | null {
  if (run.status !== 'requires_action') {
    return {
      argument: 'runId',
      message: `runId: the run is ${run.status.toUpperCase()}; tool outputs are taken only while it is REQUIRES_ACTION`,
    };
  }
  const required = new Set(run.requiredToolCalls.map((call) => call.id));
  const given = new Set<string>();
  for (const [index, output] of outputs.entries()) {
    if (given.has(output.toolCallId)) {
      return {
        argument: `toolOutputs[${index}].toolCallId`,
        message: `toolOutputs[${index}].toolCallId: ${output.toolCallId} is answered twice`,
      };
    }
    given.add(output.toolCallId);
    if (!required.has(output.toolCallId)) {
      return {
        argument: `toolOutputs[${index}].toolCallId`,
        message: `toolOutputs[${index}].toolCallId: ${output.toolCallId} is not one of the run's required tool calls`,
      };
    }
  }
  const missing = [...required].filter((id) => !given.has(id));
  if (missing.length > 0) {
    return {
      argument: 'toolOutputs',
      message: `toolOutputs: the run also waits for ${missing.join(', ')}; submit an output for every required tool call`,
    };
  }
  return null;
}
