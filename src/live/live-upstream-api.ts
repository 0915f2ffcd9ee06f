import type { Run, ToolOutput } from '../domain/run.ts';
import type { UpstreamSession } from '../upstream/calls/call-session.ts';
import type {
  AssistantFields,
  ListParams,
  MessageListParams,
  NewMessage,
  NewRun,
  StreamedRun,
  ThreadCreateParams,
  ThreadUpdateParams,
  UpstreamApi,
} from '../upstream/upstream-api.ts';
import type { ThreadEvent } from './events.ts';
import type { RunProducers } from './run-producer.ts';
import type { ThreadEventBus } from './thread-event-bus.ts';

/**
 * The upstream API as the graph uses it, with live events: every write that succeeds is told to
 * the thread's subscribers, and every run the gateway starts or answers is logged as it answered
 * (a subscriber's producer follows it from there). One seam for every resolver and transport; reads pass straight through.
 */
export class LiveUpstreamApi implements UpstreamApi {
  readonly #api: UpstreamApi;
  readonly #bus: ThreadEventBus;
  readonly #producers: RunProducers;

  constructor(api: UpstreamApi, bus: ThreadEventBus, producers: RunProducers) {
    this.#api = api;
    this.#bus = bus;
    this.#producers = producers;
  }

  get kind(): UpstreamApi['kind'] {
    return this.#api.kind;
  }

  /** Tells subscribers; a bus that fails costs the event, never the write. */
  #tell(threadId: string, event: ThreadEvent): void {
    void this.#bus.publish(threadId, event).catch(() => undefined);
  }

  /** The run as the write answered is logged; a subscriber's producer reads on from there. */
  async #produce(run: Run): Promise<Run> {
    await this.#producers.note(run.threadId, run);
    return run;
  }

  retrieveThread(session: UpstreamSession, id: string) {
    return this.#api.retrieveThread(session, id);
  }

  createThread(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string) {
    return this.#api.createThread(session, body, idempotencyKey);
  }

  async updateThread(session: UpstreamSession, id: string, body: ThreadUpdateParams) {
    const thread = await this.#api.updateThread(session, id, body);
    this.#tell(id, { type: 'ThreadUpdated', thread });
    return thread;
  }

  async deleteThread(session: UpstreamSession, id: string) {
    const deleted = await this.#api.deleteThread(session, id);
    if (deleted.deleted) this.#tell(id, { type: 'ThreadDeleted', id });
    return deleted;
  }

  listMessages(session: UpstreamSession, threadId: string, params: MessageListParams) {
    return this.#api.listMessages(session, threadId, params);
  }

  retrieveMessage(session: UpstreamSession, threadId: string, id: string) {
    return this.#api.retrieveMessage(session, threadId, id);
  }

  async createMessage(session: UpstreamSession, threadId: string, body: NewMessage, idempotencyKey?: string) {
    const message = await this.#api.createMessage(session, threadId, body, idempotencyKey);
    this.#tell(threadId, { type: 'MessageCreated', message });
    return message;
  }

  async updateMessage(session: UpstreamSession, threadId: string, id: string, metadata: Record<string, string>) {
    const message = await this.#api.updateMessage(session, threadId, id, metadata);
    this.#tell(threadId, { type: 'MessageUpdated', message });
    return message;
  }

  async deleteMessage(session: UpstreamSession, threadId: string, id: string) {
    const deleted = await this.#api.deleteMessage(session, threadId, id);
    if (deleted.deleted) this.#tell(threadId, { type: 'MessageDeleted', id });
    return deleted;
  }

  /** Streamed where the upstream can: its producer logs the stream, text deltas and all. */
  async createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string) {
    const streamed = await this.#api.createRunStreaming?.(session, threadId, body, idempotencyKey);
    if (streamed) return this.#follow(session, threadId, streamed);
    return this.#produce(await this.#api.createRun(session, threadId, body, idempotencyKey));
  }

  async #follow(session: UpstreamSession, threadId: string, streamed: StreamedRun): Promise<Run> {
    if (!streamed.events) return this.#produce(streamed.run);
    await this.#producers.start(threadId, streamed.run.id, session.credential, streamed);
    return streamed.run;
  }

  createRunStreaming(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string) {
    return this.#api.createRunStreaming?.(session, threadId, body, idempotencyKey) ?? Promise.resolve(null);
  }

  submitToolOutputsStreaming(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    return this.#api.submitToolOutputsStreaming?.(session, threadId, runId, outputs) ?? Promise.resolve(null);
  }

  retrieveRun(session: UpstreamSession, threadId: string, runId: string) {
    return this.#api.retrieveRun(session, threadId, runId);
  }

  listRuns(session: UpstreamSession, threadId: string, params: ListParams) {
    return this.#api.listRuns(session, threadId, params);
  }

  async submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    const streamed = await this.#api.submitToolOutputsStreaming?.(session, threadId, runId, outputs);
    if (streamed) return this.#follow(session, threadId, streamed);
    return this.#produce(await this.#api.submitToolOutputs(session, threadId, runId, outputs));
  }

  async cancelRun(session: UpstreamSession, threadId: string, runId: string) {
    return this.#produce(await this.#api.cancelRun(session, threadId, runId));
  }

  retrieveAssistant(session: UpstreamSession, id: string) {
    return this.#api.retrieveAssistant(session, id);
  }

  listAssistants(session: UpstreamSession, params: ListParams) {
    return this.#api.listAssistants(session, params);
  }

  createAssistant(session: UpstreamSession, body: AssistantFields, idempotencyKey?: string) {
    return this.#api.createAssistant(session, body, idempotencyKey);
  }

  updateAssistant(session: UpstreamSession, id: string, body: AssistantFields) {
    return this.#api.updateAssistant(session, id, body);
  }

  deleteAssistant(session: UpstreamSession, id: string) {
    return this.#api.deleteAssistant(session, id);
  }
}
