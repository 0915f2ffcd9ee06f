import type { Model, ModelEvent } from '../model/model.ts';
import { ModelError } from '../model/model.ts';
import {
  ACTIVE_STATUSES,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type RunToolCall,
  type RunUsage,
  type StoredRun,
} from '../store/run-store.ts';
import { type NewStoredMessage, StorageQuotaError, type Store } from '../store/store.ts';
import { AnswerMessage, type RunEventSink } from './run-events.ts';
import { buildModelRequest, PromptBudgetSpent } from './run-prompt.ts';

/**
 * Runs execute inside the backend process. The driver takes a `queued` run to `in_progress`, asks
 * the model, and ends it `completed` (writing the assistant message with the run's id),
 * `requires_action` (tool calls to answer), `incomplete`, `failed` or `expired`. Every status
 * change is a conditional write (`transitionRun`), so a cancel or an expiry that lands first wins
 * and the driver stops writing. Each status it writes, and the answer's text as it comes, are
 * published to `events` (runs/run-events.ts), which streamed requests follow.
 */
export interface RunDriverOptions {
  store: Store;
  model(name: string): Model;
  events: RunEventSink;
}

/** Why a run's model call was aborted. */
type StopReason = 'cancel' | 'expire' | 'shutdown';

const STARTABLE: readonly RunStatus[] = ['queued'];
const CANCELLABLE: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action'];

function seconds(): number {
  return Math.floor(Date.now() / 1000);
}

function isDue(run: StoredRun): boolean {
  return run.expires_at !== null && Date.now() >= run.expires_at * 1000;
}

function sumUsage(parts: Array<RunUsage | null>): RunUsage {
  const total = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const part of parts) {
    if (!part) continue;
    total.prompt_tokens += part.prompt_tokens;
    total.completion_tokens += part.completion_tokens;
    total.total_tokens += part.total_tokens;
  }
  return total;
}

/** What one model turn produced. */
interface Turn {
  text: string;
  calls: RunToolCall[];
  usage: RunUsage | null;
  length: boolean;
}

async function consume(events: AsyncIterable<ModelEvent>, message: AnswerMessage): Promise<Turn> {
  const turn: Turn = { text: '', calls: [], usage: null, length: false };
  for await (const event of events) {
    if (event.type === 'text') {
      turn.text += event.delta;
      message.text(event.delta);
    } else if (event.type === 'tool_call') {
      turn.calls.push({ id: event.id, type: 'function', function: { name: event.name, arguments: event.arguments } });
    } else if (event.type === 'usage') turn.usage = event.usage;
    else turn.length = true;
  }
  return turn;
}

export class RunDriver {
  readonly #store: Store;
  readonly #model: (name: string) => Model;
  readonly #events: RunEventSink;
  /** Runs this process is executing, to abort on cancel, expiry and shutdown. */
  readonly #executing = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #recovered: Promise<void> | undefined;
  #stopped = false;

  constructor(options: RunDriverOptions) {
    this.#store = options.store;
    this.#model = options.model;
    this.#events = options.events;
  }

  /** Every status change the driver writes goes through here, and is published when it lands. */
  async #transition(
    threadId: string,
    runId: string,
    from: readonly RunStatus[],
    patch: RunPatch,
    message?: NewStoredMessage,
  ): Promise<RunRecord | undefined> {
    const written = await this.#store.runs.transitionRun(threadId, runId, from, patch, message);
    if (written && patch.status) this.#events.publish(runId, { type: 'status', run: written.run });
    return written;
  }

  /**
   * Once per process, before any run is read or created: runs left `queued` or `in_progress` by a
   * previous process fail (`server_error`, the message saying it restarted), `cancelling` ones end `cancelled`, and runs
   * waiting in `requires_action` (whose state is all stored) get their expiry timer back. Retried
   * on the next request when the store cannot be read yet.
   */
  ready(): Promise<void> {
    this.#recovered ??= this.#recover().catch((error: unknown) => {
      this.#recovered = undefined;
      throw error;
    });
    return this.#recovered;
  }

  async #recover(): Promise<void> {
    const runs = this.#store.runs;
    for (const run of await runs.runsInStatus(['queued', 'in_progress', 'cancelling', 'requires_action'])) {
      if (run.status === 'requires_action') this.#arm(run);
      else if (run.status === 'cancelling') await this.#finishCancel(run.thread_id, run.id);
      else {
        await runs.transitionRun(run.thread_id, run.id, ['queued', 'in_progress'], {
          status: 'failed',
          failed_at: seconds(),
          expires_at: null,
          last_error: {
            code: 'server_error',
            message: 'The local backend restarted while this run was in progress.',
          },
        });
      }
    }
  }

  /** Starts executing a `queued` run (just created, or given its tool outputs). */
  start(run: StoredRun): void {
    if (this.#stopped) return;
    this.#arm(run);
    const controller = new AbortController();
    const done = this.#execute(run.thread_id, run.id, controller.signal)
      .catch(() => undefined) // the store failed too: the run is left for the restart recovery
      .finally(() => this.#executing.delete(run.id));
    this.#executing.set(run.id, { controller, done });
  }

  /** An expiry timer at `expires_at`, for runs this process started or found waiting. */
  #arm(run: StoredRun): void {
    if (run.expires_at === null || this.#timers.has(run.id) || this.#stopped) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(run.id);
        void this.#expire(run.thread_id, run.id).catch(() => undefined);
      },
      Math.max(0, run.expires_at * 1000 - Date.now()),
    );
    timer.unref();
    this.#timers.set(run.id, timer);
  }

  #disarm(runId: string): void {
    clearTimeout(this.#timers.get(runId));
    this.#timers.delete(runId);
  }

  async #execute(threadId: string, runId: string, signal: AbortSignal): Promise<void> {
    const started = await this.#transition(threadId, runId, STARTABLE, {
      status: 'in_progress',
      started_at: seconds(),
    });
    if (!started) return this.#settle(threadId, runId);
    let turn: Turn;
    const message = new AnswerMessage((event) => this.#events.publish(runId, event));
    try {
      const request = await buildModelRequest(this.#store, started, signal);
      turn = await consume(this.#model(started.run.model).stream(request), message);
      signal.throwIfAborted();
    } catch (error) {
      // A cancel is finished here; an expiry by whoever aborted (it waits for this call to end).
      if (signal.aborted) return signal.reason === 'cancel' ? this.#finishCancel(threadId, runId) : undefined;
      if (error instanceof PromptBudgetSpent) return this.#endIncomplete(started, 'max_prompt_tokens');
      return this.#fail(threadId, runId, error);
    }
    let written: RunRecord | undefined;
    try {
      written = await this.#finishTurn(started, turn, message);
    } catch (error) {
      // The answer could not be stored (quota): the run fails rather than stay in progress.
      return this.#fail(threadId, runId, error);
    }
    if (!written) await this.#settle(threadId, runId);
  }

  /** Ends the turn: `requires_action` for tool calls, else the answer message and the final status. */
  #finishTurn(record: RunRecord, turn: Turn, message: AnswerMessage): Promise<RunRecord | undefined> {
    const { run } = record;
    if (turn.calls.length > 0) {
      return this.#transition(run.thread_id, run.id, ['in_progress'], {
        status: 'requires_action',
        required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: turn.calls } },
        rounds: [
          ...record.rounds,
          { text: turn.text, tool_calls: turn.calls, outputs: null, usage: turn.usage, created_at: seconds() },
        ],
      });
    }
    const patch: RunPatch = {
      usage: sumUsage([...record.rounds.map((round) => round.usage), turn.usage]),
      expires_at: null,
      ...(turn.length
        ? { status: 'incomplete', incomplete_details: { reason: 'max_completion_tokens' } }
        : { status: 'completed', completed_at: seconds() }),
    };
    this.#disarm(run.id);
    return this.#transition(run.thread_id, run.id, ['in_progress'], patch, {
      ...message.announce(),
      role: 'assistant',
      content: [{ type: 'text', text: { value: turn.text, annotations: [] } }],
      ...(turn.length ? { incomplete_reason: 'max_tokens' as const } : {}),
    });
  }

  /** Ends the run `incomplete` for `reason`, with what its earlier turns used. */
  async #endIncomplete(record: RunRecord, reason: 'max_prompt_tokens'): Promise<void> {
    const { run } = record;
    this.#disarm(run.id);
    const ended = await this.#transition(run.thread_id, run.id, ['in_progress'], {
      status: 'incomplete',
      incomplete_details: { reason },
      usage: sumUsage(record.rounds.map((round) => round.usage)),
      expires_at: null,
    });
    if (!ended) await this.#settle(run.thread_id, run.id);
  }

  async #fail(threadId: string, runId: string, error: unknown): Promise<void> {
    this.#disarm(runId);
    const lastError =
      error instanceof ModelError
        ? { code: error.code, message: error.message }
        : error instanceof StorageQuotaError
          ? { code: 'server_error', message: "The run's answer does not fit in the storage quota." }
          : { code: 'server_error', message: 'The local backend failed while running the model.' };
    const failed = await this.#transition(threadId, runId, ['in_progress'], {
      status: 'failed',
      failed_at: seconds(),
      expires_at: null,
      last_error: lastError,
    });
    if (!failed) await this.#settle(threadId, runId);
  }

  /** After the driver lost a race (or was aborted): finish a cancel, or expire a run past its time. */
  async #settle(threadId: string, runId: string): Promise<void> {
    const record = await this.#store.runs.getRun(threadId, runId);
    if (!record) {
      // Its thread was deleted under it: whoever follows the run hears that it is gone.
      this.#events.publish(runId, { type: 'gone' });
      return;
    }
    if (record.run.status === 'cancelling') await this.#finishCancel(threadId, runId);
    else if (ACTIVE_STATUSES.includes(record.run.status) && isDue(record.run)) await this.#markExpired(threadId, runId);
  }

  async #finishCancel(threadId: string, runId: string): Promise<void> {
    this.#disarm(runId);
    await this.#transition(threadId, runId, ['cancelling'], {
      status: 'cancelled',
      cancelled_at: seconds(),
      expires_at: null,
    });
  }

  /** Marks a run `expired` (a cancelling one `cancelled`), stopping its model call first. */
  async #expire(threadId: string, runId: string): Promise<RunRecord | undefined> {
    this.#disarm(runId);
    const executing = this.#executing.get(runId);
    if (executing) {
      executing.controller.abort('expire' satisfies StopReason);
      await executing.done;
    }
    await this.#markExpired(threadId, runId);
    return this.#store.runs.getRun(threadId, runId);
  }

  async #markExpired(threadId: string, runId: string): Promise<void> {
    this.#disarm(runId);
    const expired = await this.#transition(threadId, runId, CANCELLABLE, {
      status: 'expired',
      required_action: null,
    });
    if (!expired) await this.#finishCancel(threadId, runId);
  }

  /** A read's view of a run: one past `expires_at` is expired first (its timer may be in another process). */
  async current(record: RunRecord): Promise<RunRecord> {
    if (!ACTIVE_STATUSES.includes(record.run.status) || !isDue(record.run)) return record;
    return (await this.#expire(record.run.thread_id, record.run.id)) ?? record;
  }

  /**
   * `cancelling` at once; `cancelled` once the model call stopped (at once for a run that has none).
   * undefined when the run was not in a cancellable status.
   */
  async cancel(threadId: string, runId: string): Promise<RunRecord | undefined> {
    const cancelling = await this.#transition(threadId, runId, CANCELLABLE, { status: 'cancelling' });
    if (!cancelling) return undefined;
    const executing = this.#executing.get(runId);
    if (executing) executing.controller.abort('cancel' satisfies StopReason);
    else setImmediate(() => void this.#finishCancel(threadId, runId).catch(() => undefined));
    return cancelling;
  }

  /**
   * Stops every model call without writing anything, as a crash would: the next process's recovery
   * marks those runs failed (the backend restarted). Called on shutdown, before the store closes.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const running = [...this.#executing.values()];
    for (const { controller } of running) controller.abort('shutdown' satisfies StopReason);
    await Promise.all(running.map(({ done }) => done));
  }
}
