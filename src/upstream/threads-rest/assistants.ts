import type OpenAI from 'openai';
import type { Assistant, AssistantPage } from '../../domain/assistant.ts';
import { ErrorCode, GatewayError } from '../../errors.ts';
import { normaliseAssistant, normaliseDeleted, repeatsAnId } from '../answer-checks.ts';
import { type UpstreamCalls, type UpstreamSession, withIdempotencyKey } from '../calls/call-session.ts';
import { listPage, sdk, sdkRead, UpstreamShapeError } from '../calls/faults.ts';
import type { AssistantFields, ListParams } from '../upstream-api.ts';
import { listQuery, toAssistantCreate, toAssistantParams } from './run-wire.ts';

/** The Threads REST API's assistants, through the SDK, under the adapter's call session. */
export class ThreadsRestAssistants {
  readonly #client: OpenAI;
  readonly #calls: UpstreamCalls;

  constructor(client: OpenAI, calls: UpstreamCalls) {
    this.#client = client;
    this.#calls = calls;
  }

  retrieve(session: UpstreamSession, id: string): Promise<Assistant | null> {
    return this.#calls.read<Assistant | null>(session, `assistants/${id}`, {
      method: 'GET',
      route: '/assistants/{id}',
      resource: 'assistant',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#client.beta.assistants.retrieve(id, options), (assistant) => normaliseAssistant(assistant, id)),
    });
  }

  async list(session: UpstreamSession, params: ListParams): Promise<AssistantPage> {
    const query = `limit=${params.limit}&order=${params.order}${params.after ? `&after=${params.after}` : ''}`;
    const page = await this.#calls.read<AssistantPage | null>(session, `assistants?${query}`, {
      method: 'GET',
      route: '/assistants',
      resource: 'assistant',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#client.beta.assistants.list(listQuery(params), options), (answer) => {
          const page = listPage(answer, params.limit, 'assistants');
          const data = page.data.map((assistant) => normaliseAssistant(assistant));
          if (
            repeatsAnId(
              data.map((assistant) => assistant.id),
              new Set(params.after ? [params.after] : []),
            )
          ) {
            throw new UpstreamShapeError('a list that repeats an assistant');
          }
          return { data, hasMore: page.hasMore };
        }),
    });
    // The list has no parent that could be missing: a 404 is an upstream without assistants.
    if (!page) {
      throw new GatewayError(
        ErrorCode.UNSUPPORTED_BY_UPSTREAM,
        'The upstream answered 404 to the assistants list: it serves no assistants.',
      );
    }
    return page;
  }

  create(session: UpstreamSession, body: AssistantFields, idempotencyKey?: string): Promise<Assistant> {
    const wire = toAssistantCreate(body);
    this.#calls.forget(session, 'assistants', { under: true });
    return this.#calls.call(session, {
      method: 'POST',
      route: '/assistants',
      resource: 'assistant',
      safety: 'create',
      send: async (options) =>
        normaliseAssistant(
          await sdk(this.#client.beta.assistants.create(wire, withIdempotencyKey(options, idempotencyKey))),
        ),
    });
  }

  update(session: UpstreamSession, id: string, body: AssistantFields): Promise<Assistant> {
    const wire = toAssistantParams(body);
    this.#calls.forget(session, 'assistants', { under: true });
    return this.#calls.call(session, {
      method: 'POST',
      route: '/assistants/{id}',
      resource: 'assistant',
      safety: 'idempotent',
      send: async (options) =>
        normaliseAssistant(await sdk(this.#client.beta.assistants.update(id, wire, options)), id),
    });
  }

  remove(session: UpstreamSession, id: string): Promise<{ id: string; deleted: boolean }> {
    this.#calls.forget(session, 'assistants', { under: true });
    return this.#calls.call(session, {
      method: 'DELETE',
      route: '/assistants/{id}',
      resource: 'assistant',
      safety: 'idempotent',
      on404AfterRetry: () => ({ id, deleted: true }),
      send: async (options) =>
        normaliseDeleted(await sdk(this.#client.beta.assistants.delete(id, options)), id, 'assistant'),
    });
  }
}
