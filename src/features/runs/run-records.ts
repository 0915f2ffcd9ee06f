import type { Assistant } from '../../domain/assistant.ts';
import type { MessageOrder } from '../../domain/message-pagination.ts';
import type { RunError, RunStatus, RunToolCall } from '../../domain/run.ts';

/**
 * The gateway's own run and assistant records, for an upstream that has neither (OpenAI's
 * Responses + Conversations APIs). A run is a chain of background responses on one conversation;
 * its record keeps the settings every response of the chain is sent with, the chain's response
 * ids, and what the gateway has learned of each response. The records live in the gateway's store
 * (memory, SQLite in DATA_DIR, PostgreSQL with DATABASE_URL), so every instance and a restarted
 * one see the same runs.
 */

/** The Responses API's statuses of a response. */
export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'incomplete';

/** What the gateway has learned of one response of a run's chain, the last time it read it. */
export interface ResponseFold {
  id: string;
  status: ResponseStatus;
  /** Unix seconds, as the response reported them. */
  createdAt: number | null;
  completedAt: number | null;
  /** The response's `message` output items, as the API answered them (checked). */
  messageItems: unknown[];
  /** Its `function_call` output items: the calls a `completed` response waits on. */
  functionCalls: RunToolCall[];
  usage: { inputTokens: number; outputTokens: number; totalTokens: number } | null;
  error: RunError | null;
  incompleteReason: string | null;
}

/** What each response of a run is sent with (`instructions` do not carry over between responses). */
export interface RunSettings {
  model: string;
  instructions: string | null;
  /** The Threads API's tool objects, as the run serves them. */
  tools: unknown[];
  toolChoice?: unknown;
  parallelToolCalls?: boolean;
  temperature?: number | null;
  topP?: number | null;
  maxOutputTokens?: number;
  responseFormat?: unknown;
  metadata: Record<string, string>;
}

export interface RunRecord {
  /** `run_…`, minted by the gateway. */
  id: string;
  /** The conversation the responses run on. */
  threadId: string;
  assistantId: string | null;
  settings: RunSettings;
  /** The chain, oldest first; the last is the current response. Never empty. */
  responses: ResponseFold[];
  /** The run's status as last derived (docs/runs.md); terminal statuses need no further read. */
  status: RunStatus;
  /** Unix seconds. */
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  cancelledAt: number | null;
  /** cancelRun was asked for: the current response is being (or was) cancelled. */
  cancelRequested: boolean;
  /** Bumped on every save; a save against an older version is refused (another instance moved it on). */
  version: number;
}

export interface RecordListParams {
  limit: number;
  order: MessageOrder;
  after?: string;
}

export interface RecordPage<T> {
  data: T[];
  hasMore: boolean;
}

export interface RunRecords {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  insertRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  /**
   * Replaces the record if its stored version is still `run.version - 1`; false when another
   * writer saved it in between (the caller reads it again).
   */
  saveRun(run: RunRecord): Promise<boolean>;
  /** A page of a conversation's runs in creation order; `after` is a run id of that conversation. */
  listRuns(threadId: string, params: RecordListParams): Promise<RecordPage<RunRecord>>;
  /** Forgets a deleted conversation's runs. */
  deleteRuns(threadId: string): Promise<void>;

  insertAssistant(assistant: Assistant): Promise<void>;
  getAssistant(id: string): Promise<Assistant | null>;
  /** Replaces the assistant; false when there is none. */
  replaceAssistant(assistant: Assistant): Promise<boolean>;
  deleteAssistant(id: string): Promise<boolean>;
  listAssistants(params: RecordListParams): Promise<RecordPage<Assistant>>;
  close(): Promise<void>;
}

/** A page of `items` (in creation order) after the item `after`, in `order`. */
export function pageOf<T extends { id: string }>(items: readonly T[], params: RecordListParams): RecordPage<T> {
  const ordered = params.order === 'desc' ? [...items].reverse() : [...items];
  let start = 0;
  if (params.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === params.after);
    start = at === -1 ? ordered.length : at + 1;
  }
  const data = ordered.slice(start, start + params.limit);
  return { data, hasMore: start + params.limit < ordered.length };
}
