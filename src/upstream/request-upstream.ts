import type { UpstreamHealth } from './health.ts';
import type {
  MessageListParams,
  MessagePage,
  NewMessage,
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
  UpstreamApi,
  UpstreamMessage,
} from './upstream-api.ts';
import type { UpstreamSession } from './upstream-calls.ts';

/**
 * The upstream calls of one GraphQL request: its credential, deadline and budget bound in, and
 * every call refused while the upstream is known not to serve the API.
 */
export class RequestUpstream {
  readonly #api: UpstreamApi;
  readonly #session: UpstreamSession;
  readonly #health: UpstreamHealth;

  constructor(api: UpstreamApi, session: UpstreamSession, health: UpstreamHealth) {
    this.#api = api;
    this.#session = session;
    this.#health = health;
  }

  get session(): UpstreamSession {
    return this.#session;
  }

  get kind(): UpstreamApi['kind'] {
    return this.#api.kind;
  }

  async retrieveThread(id: string): Promise<Thread | null> {
    await this.#health.assertServesThreads();
    return this.#api.retrieveThread(this.#session, id);
  }

  async createThread(body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    await this.#health.assertServesThreads();
    return this.#api.createThread(this.#session, body, idempotencyKey);
  }

  async updateThread(id: string, body: ThreadUpdateParams): Promise<Thread> {
    await this.#health.assertServesThreads();
    return this.#api.updateThread(this.#session, id, body);
  }

  async deleteThread(id: string): Promise<ThreadDeleted> {
    await this.#health.assertServesThreads();
    return this.#api.deleteThread(this.#session, id);
  }

  async listMessages(threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    await this.#health.assertServesThreads();
    return this.#api.listMessages(this.#session, threadId, params);
  }

  async retrieveMessage(threadId: string, id: string): Promise<UpstreamMessage | null> {
    await this.#health.assertServesThreads();
    return this.#api.retrieveMessage(this.#session, threadId, id);
  }

  async createMessage(threadId: string, body: NewMessage, idempotencyKey?: string): Promise<UpstreamMessage> {
    await this.#health.assertServesThreads();
    return this.#api.createMessage(this.#session, threadId, body, idempotencyKey);
  }

  async updateMessage(threadId: string, id: string, metadata: Record<string, string>): Promise<UpstreamMessage> {
    await this.#health.assertServesThreads();
    return this.#api.updateMessage(this.#session, threadId, id, metadata);
  }

  async deleteMessage(threadId: string, id: string): Promise<{ id: string; deleted: boolean }> {
    await this.#health.assertServesThreads();
    return this.#api.deleteMessage(this.#session, threadId, id);
  }
}
