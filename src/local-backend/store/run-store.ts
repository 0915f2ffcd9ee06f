import type { NewStoredMessage } from './store.ts';

/**
 * The runs and assistants part of the local backend's storage seam (`Store.runs`). Records are the
 * Threads API's wire shapes (`thread.run`, `assistant`); what a run needs to carry on after
 * `submit_tool_outputs` (the tool rounds so far) is kept beside it, never shown on the wire, so a
 * run waiting for tool outputs survives a restart.
 */

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

/** A run in one of these has finished: it never changes again. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['cancelled', 'failed', 'completed', 'incomplete', 'expired'];
/** A run in one of these is the thread's active run: no second run, no new messages. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action', 'cancelling'];

export interface RunToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface RunUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface StoredRun {
  id: string;
  object: 'thread.run';
  created_at: number;
  thread_id: string;
  /** null for a run created with only `model` (a local backend extension). */
  assistant_id: string | null;
  status: RunStatus;
  required_action: { type: 'submit_tool_outputs'; submit_tool_outputs: { tool_calls: RunToolCall[] } } | null;
  last_error: { code: string; message: string } | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  incomplete_details: { reason: string } | null;
  model: string;
  instructions: string;
  tools: unknown[];
  metadata: Record<string, string>;
  usage: RunUsage | null;
  temperature: number | null;
  top_p: number | null;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: { type: 'auto' | 'last_messages'; last_messages: number | null };
  tool_choice: unknown;
  parallel_tool_calls: boolean;
  response_format: unknown;
}

/** One model turn that ended in tool calls, and the outputs submitted for them (null until then). */
export interface ToolRound {
  /** Text the model produced before its tool calls (kept for the next request, never a message). */
  text: string;
  tool_calls: RunToolCall[];
  outputs: Array<{ tool_call_id: string; output: string }> | null;
  /** Tokens this turn used (the run's `usage` is the sum once it ends). */
  usage: RunUsage | null;
  /** When the turn ended in its tool calls, and when their outputs came (seconds; absent in older records). */
  created_at?: number;
  completed_at?: number;
}

/** A run as the driver sees it: the wire object and its private state. */
export interface RunRecord {
  run: StoredRun;
  rounds: ToolRound[];
}

/** Fields a transition replaces (`id`, `thread_id`, `created_at` never change). */
export type RunPatch = Partial<Omit<StoredRun, 'id' | 'object' | 'thread_id' | 'created_at'>> & {
  rounds?: ToolRound[];
};

export interface StoredAssistant {
  id: string;
  object: 'assistant';
  created_at: number;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  tools: unknown[];
  tool_resources: Record<string, unknown> | null;
  metadata: Record<string, string>;
  temperature: number | null;
  top_p: number | null;
  response_format: unknown;
  reasoning_effort: string | null;
}

export type NewStoredAssistant = Omit<StoredAssistant, 'id' | 'object' | 'created_at'>;
export type AssistantPatch = Partial<NewStoredAssistant>;

/** The run's settings at creation; the store mints its id and times. */
export type NewStoredRun = Omit<
  StoredRun,
  | 'id'
  | 'object'
  | 'created_at'
  | 'thread_id'
  | 'status'
  | 'required_action'
  | 'last_error'
  | 'expires_at'
  | 'started_at'
  | 'cancelled_at'
  | 'failed_at'
  | 'completed_at'
  | 'incomplete_details'
  | 'usage'
> & {
  /** How long the run may take, from its creation (LOCAL_BACKEND_RUN_TIMEOUT_S). */
  timeoutMs: number;
};

export interface ListQuery {
  /** 1..100; stores read limit + 1 to know `has_more`. */
  limit: number;
  order: 'asc' | 'desc';
  after?: string;
  before?: string;
}

export type ListResult<T> =
  | { kind: 'ok'; data: T[]; has_more: boolean }
  | { kind: 'no-thread' }
  | { kind: 'bad-cursor'; param: 'after' | 'before' };

export type CreateRunResult =
  | { kind: 'ok'; run: StoredRun }
  | { kind: 'no-thread' }
  /** The thread already has a run in an active status (OpenAI answers 400). */
  | { kind: 'active'; runId: string };

export interface RunStore {
  createAssistant(input: NewStoredAssistant): Promise<StoredAssistant>;
  getAssistant(id: string): Promise<StoredAssistant | undefined>;
  updateAssistant(id: string, patch: AssistantPatch): Promise<StoredAssistant | undefined>;
  deleteAssistant(id: string): Promise<boolean>;
  /** Assistants are not in a thread: the result is never `no-thread`. */
  listAssistants(query: ListQuery): Promise<ListResult<StoredAssistant>>;

  /**
   * Creates a `queued` run and, before it in the same write, the request's `additional_messages`;
   * refused when the thread has an active run.
   */
  createRun(threadId: string, input: NewStoredRun, messages: NewStoredMessage[]): Promise<CreateRunResult>;
  getRun(threadId: string, id: string): Promise<RunRecord | undefined>;
  listRuns(threadId: string, query: ListQuery): Promise<ListResult<StoredRun>>;
  /** The thread's run in an active status, if any. */
  activeRun(threadId: string): Promise<StoredRun | undefined>;
  /**
   * Applies `patch` only while the run's status is one of `from` (so a cancel or an expiry that
   * got there first wins), and writes `message` (stamped with the run and assistant ids) in the same
   * write. undefined when the run is gone or its status was not in `from`.
   */
  transitionRun(
    threadId: string,
    id: string,
    from: readonly RunStatus[],
    patch: RunPatch,
    message?: NewStoredMessage,
  ): Promise<RunRecord | undefined>;
  /** Runs in `statuses`, in every thread (the restart recovery reads the ones left in flight). */
  runsInStatus(statuses: readonly RunStatus[]): Promise<StoredRun[]>;
}
