import { type AnswerStream, sseEvent } from '../http/answer.ts';
import { type RunStatus, type StoredRun, TERMINAL_STATUSES, type ToolRound } from '../store/run-store.ts';
import type { Store } from '../store/store.ts';
import type { LogReader } from '../streams/event-log.ts';
import { wireMessage } from '../threads/wire-message.ts';
import type { RunEvent } from './run-events.ts';
import { answerStep, messageStep, type StepStatus, toolStep } from './run-steps.ts';

/**
 * A streamed create or `submit_tool_outputs`: the run's events (runs/run-events.ts) as the API's
 * Assistants stream events (`AssistantStreamEvent` in OpenAI's OpenAPI description), each `data`
 * the whole object as a read would answer it then, until the run is final or waits for tool
 * outputs; then `event: done`. Events are rendered as the client reads them, so a client that does
 * not read holds only its place in the run's bounded log.
 */

/** A stream of a run ends with one of these: a final status, or a wait for tool outputs. */
const LAST_STATUSES: readonly RunStatus[] = [...TERMINAL_STATUSES, 'requires_action'];

/** Why an answer message the run did not write ended (the API's `incomplete_details.reason`). */
const INCOMPLETE_REASONS: Partial<Record<RunStatus, string>> = {
  cancelled: 'run_cancelled',
  expired: 'run_expired',
  failed: 'run_failed',
};

const DONE = sseEvent('done', '[DONE]');

/** How the step of a message the run did not write ends, by the run's final status. */
const STEP_ENDS: Partial<Record<RunStatus, StepStatus>> = {
  cancelled: 'cancelled',
  expired: 'expired',
  failed: 'failed',
};

const seconds = () => Math.floor(Date.now() / 1000);

interface OpenMessage {
  id: string;
  created_at: number;
  text: string;
}

function event(name: string, data: unknown): string {
  return sseEvent(name, JSON.stringify(data));
}

/** The `event: error` the API sends when a stream cannot go on, and the stream's end. */
function streamError(code: string, message: string): string {
  return event('error', { code, message, param: null, type: 'server_error' }) + DONE;
}

function textContent(text: string) {
  return text === '' ? [] : [{ type: 'text', text: { value: text, annotations: [] } }];
}

/** The answer message while it is written, and when it ends unwritten: the API's message object. */
function liveMessage(run: StoredRun, message: OpenMessage, status: 'in_progress' | 'incomplete') {
  const reason = INCOMPLETE_REASONS[run.status];
  return {
    id: message.id,
    object: 'thread.message',
    created_at: message.created_at,
    thread_id: run.thread_id,
    status,
    incomplete_details: status === 'incomplete' && reason ? { reason } : null,
    completed_at: null,
    incomplete_at: status === 'incomplete' ? Math.floor(Date.now() / 1000) : null,
    role: 'assistant',
    content: status === 'in_progress' ? [] : textContent(message.text),
    assistant_id: run.assistant_id,
    run_id: run.id,
    attachments: null,
    metadata: {},
  };
}

export class RunStream implements AnswerStream {
  readonly #store: Store;
  readonly #reader: LogReader<RunEvent>;
  /** Rendered events not handed out yet (the opening ones). */
  #pending: string;
  #run: StoredRun;
  #message: OpenMessage | undefined;
  #finished = false;

  /**
   * `opening`: a create announces the run `created` then `queued`; tool outputs (`answered`: the
   * round they answer) queue it again, and complete that round's step.
   */
  constructor(
    store: Store,
    reader: LogReader<RunEvent>,
    run: StoredRun,
    opening: 'created' | 'queued',
    answered?: ToolRound,
  ) {
    this.#store = store;
    this.#reader = reader;
    this.#run = run;
    this.#pending = (opening === 'created' ? event('thread.run.created', run) : '') + event('thread.run.queued', run);
    if (answered) this.#pending += event('thread.run.step.completed', toolStep(run, answered));
  }

  async next(): Promise<string | undefined> {
    if (this.#pending !== '') {
      const pending = this.#pending;
      this.#pending = '';
      return pending;
    }
    while (!this.#finished) {
      const read = await this.#reader.next();
      if (this.#finished) break;
      if (read.kind === 'event') {
        const rendered = await this.#render(read.event).catch(() => {
          this.close();
          return streamError('server_error', 'The local backend could not read the run to stream it.');
        });
        if (rendered !== '') return rendered;
        continue;
      }
      this.close();
      return read.kind === 'overrun'
        ? streamError('stream_overrun', 'The client read the stream too slowly; read the run instead.')
        : streamError('server_shutdown', 'The local backend is shutting down.');
    }
    return undefined;
  }

  close(): void {
    this.#finished = true;
    this.#reader.close();
  }

  async #render(runEvent: RunEvent): Promise<string> {
    if (runEvent.type === 'gone') {
      this.close();
      return streamError('run_not_found', 'The run is gone: its thread was deleted while it ran.');
    }
    if (runEvent.type === 'message') {
      this.#message = { id: runEvent.id, created_at: runEvent.created_at, text: '' };
      const message = liveMessage(this.#run, this.#message, 'in_progress');
      const step = messageStep(this.#run, runEvent.id, runEvent.created_at);
      return (
        event('thread.run.step.created', step) +
        event('thread.run.step.in_progress', step) +
        event('thread.message.created', message) +
        event('thread.message.in_progress', message)
      );
    }
    if (runEvent.type === 'text') {
      if (this.#message?.id !== runEvent.id) return '';
      this.#message.text += runEvent.value;
      return event('thread.message.delta', {
        id: runEvent.id,
        object: 'thread.message.delta',
        delta: { content: [{ index: 0, type: 'text', text: { value: runEvent.value, annotations: [] } }] },
      });
    }
    const { run } = runEvent;
    this.#run = run;
    const last = LAST_STATUSES.includes(run.status);
    const message = last ? (await this.#endMessage(run)) + (await this.#waitingStep(run)) : '';
    const rendered = message + event(`thread.run.${run.status}`, run);
    if (!last) return rendered;
    this.close();
    return rendered + DONE;
  }

  /** The open answer message and its step, ended: as stored when the run wrote it, else incomplete. */
  async #endMessage(run: StoredRun): Promise<string> {
    const open = this.#message;
    if (!open) return '';
    this.#message = undefined;
    const written =
      run.status === 'completed' || run.status === 'incomplete'
        ? await this.#store.getMessage(run.thread_id, open.id)
        : undefined;
    if (written) {
      const record = await this.#store.runs.getRun(run.thread_id, run.id);
      const step = record && answerStep({ ...record, run }, written);
      return (
        event(`thread.message.${written.status}`, wireMessage(written)) +
        (step ? event('thread.run.step.completed', step) : '')
      );
    }
    const ended = STEP_ENDS[run.status] ?? 'cancelled';
    const step = { ...messageStep(run, open.id, open.created_at), status: ended, [`${ended}_at`]: seconds() };
    return (
      event('thread.message.incomplete', liveMessage(run, open, 'incomplete')) + event(`thread.run.step.${ended}`, step)
    );
  }

  /** A run that waits for tool outputs: the step of its calls, begun. */
  async #waitingStep(run: StoredRun): Promise<string> {
    if (run.status !== 'requires_action') return '';
    const round = (await this.#store.runs.getRun(run.thread_id, run.id))?.rounds.at(-1);
    if (!round) return '';
    const step = toolStep(run, round);
    return event('thread.run.step.created', step) + event('thread.run.step.in_progress', step);
  }
}
