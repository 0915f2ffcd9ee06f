import type { Assistant, AssistantPage } from '../domain/assistant.ts';
import type { Run, RunPage, ToolOutput } from '../domain/run.ts';
import { callNow, type UpstreamSession } from './calls/call-session.ts';
import type { UpstreamHealth } from './detection/health.ts';
import type {
  AssistantFields,
  ListParams,
  MessageListParams,
  MessagePage,
  NewMessage,
  NewRun,
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
  UpstreamApi,
  UpstreamMessage,
} from './upstream-api.ts';

/**
 * The upstream calls of one GraphQL request: its credential, deadline and budget bound in, and
 * every call refused while the upstream is known not to serve the API.
 */
export class RequestUpstream {
  readonly #api: UpstreamApi;
  #made: UpstreamSession | undefined;
  #make: () => UpstreamSession;
  readonly #health: UpstreamHealth;

  constructor(api: UpstreamApi, session: UpstreamSession, health: UpstreamHealth) {
    this.#api = api;
    this.#made = session;
    this.#make = () => session;
    this.#health = health;
  }

  get session(): UpstreamSession {
    return this.#session;
  }

  /** The session of the calls now: made when the first call (or reader) of a renewed one needs it. */
  get #session(): UpstreamSession {
    this.#made ??= this.#make();
    return this.#made;
  }

  /**
   * A subscription's next event: its calls from now on under a fresh deadline and budget, made by
   * `make` only if the event makes a call (most events' selections read nothing upstream).
   */
  renew(make: () => UpstreamSession): void {
    this.#made = undefined;
    this.#make = make;
  }

  get kind(): UpstreamApi['kind'] {
    return this.#api.kind;
  }

  /**
   * Runs an upstream call once the upstream is known to serve the API: at once when the last
   * verdict says so (no promise of our own per call), else after `assertServesThreads`. A call that
   * throws at once still fails as a rejected promise, as from an async method.
   */
  #whenServing<T>(call: () => Promise<T>): Promise<T> {
    if (!this.#health.servesThreadsNow) return this.#health.assertServesThreads().then(call);
    return callNow(call);
  }

  retrieveThread(id: string): Promise<Thread | null> {
    return this.#whenServing(() => this.#api.retrieveThread(this.#session, id));
  }

  createThread(body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    return this.#whenServing(() => this.#api.createThread(this.#session, body, idempotencyKey));
  }

  updateThread(id: string, body: ThreadUpdateParams): Promise<Thread> {
    return this.#whenServing(() => this.#api.updateThread(this.#session, id, body));
  }

  deleteThread(id: string): Promise<ThreadDeleted> {
    return this.#whenServing(() => this.#api.deleteThread(this.#session, id));
  }

  listMessages(threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    return this.#whenServing(() => this.#api.listMessages(this.#session, threadId, params));
  }

  retrieveMessage(threadId: string, id: string): Promise<UpstreamMessage | null> {
    return this.#whenServing(() => this.#api.retrieveMessage(this.#session, threadId, id));
  }

  createMessage(threadId: string, body: NewMessage, idempotencyKey?: string): Promise<UpstreamMessage> {
    return this.#whenServing(() => this.#api.createMessage(this.#session, threadId, body, idempotencyKey));
  }

  updateMessage(threadId: string, id: string, metadata: Record<string, string>): Promise<UpstreamMessage> {
    return this.#whenServing(() => this.#api.updateMessage(this.#session, threadId, id, metadata));
  }

  deleteMessage(threadId: string, id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#whenServing(() => this.#api.deleteMessage(this.#session, threadId, id));
  }

  createRun(threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run> {
    return this.#whenServing(() => this.#api.createRun(this.#session, threadId, body, idempotencyKey));
  }

  retrieveRun(threadId: string, runId: string): Promise<Run | null> {
    return this.#whenServing(() => this.#api.retrieveRun(this.#session, threadId, runId));
  }

  listRuns(threadId: string, params: ListParams): Promise<RunPage | null> {
    return this.#whenServing(() => this.#api.listRuns(this.#session, threadId, params));
  }

  submitToolOutputs(threadId: string, runId: string, outputs: ToolOutput[]): Promise<Run> {
    return this.#whenServing(() => this.#api.submitToolOutputs(this.#session, threadId, runId, outputs));
  }

  cancelRun(threadId: string, runId: string): Promise<Run> {
    return this.#whenServing(() => this.#api.cancelRun(this.#session, threadId, runId));
  }

  retrieveAssistant(id: string): Promise<Assistant | null> {
    return this.#whenServing(() => this.#api.retrieveAssistant(this.#session, id));
  }

  listAssistants(params: ListParams): Promise<AssistantPage> {
    return this.#whenServing(() => this.#api.listAssistants(this.#session, params));
  }

  createAssistant(body: AssistantFields, idempotencyKey?: string): Promise<Assistant> {
    return this.#whenServing(() => this.#api.createAssistant(this.#session, body, idempotencyKey));
  }

  updateAssistant(id: string, body: AssistantFields): Promise<Assistant> {
    return this.#whenServing(() => this.#api.updateAssistant(this.#session, id, body));
  }

  deleteAssistant(id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#whenServing(() => this.#api.deleteAssistant(this.#session, id));
  }
}
