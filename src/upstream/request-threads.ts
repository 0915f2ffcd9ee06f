import type { UpstreamHealth } from './health.ts';
import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadsApi,
  ThreadUpdateParams,
  UpstreamSession,
} from './threads-upstream.ts';

/** The Threads calls of one GraphQL request: its credential, deadline and budget bound in. */
export class RequestThreads {
  readonly #upstream: ThreadsApi;
  readonly #session: UpstreamSession;
  readonly #health: UpstreamHealth;

  constructor(upstream: ThreadsApi, session: UpstreamSession, health: UpstreamHealth) {
    this.#upstream = upstream;
    this.#session = session;
    this.#health = health;
  }

  get session(): UpstreamSession {
    return this.#session;
  }

  async retrieve(id: string): Promise<Thread | null> {
    await this.#health.assertServesThreads();
    return this.#upstream.retrieve(this.#session, id);
  }

  async create(body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    await this.#health.assertServesThreads();
    return this.#upstream.create(this.#session, body, idempotencyKey);
  }

  async update(id: string, body: ThreadUpdateParams): Promise<Thread> {
    await this.#health.assertServesThreads();
    return this.#upstream.update(this.#session, id, body);
  }

  async delete(id: string): Promise<ThreadDeleted> {
    await this.#health.assertServesThreads();
    return this.#upstream.delete(this.#session, id);
  }
}
