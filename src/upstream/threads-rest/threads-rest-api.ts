import type OpenAI from 'openai';
import type { MessageCreateParams } from 'openai/resources/beta/threads/messages';
import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
} from 'openai/resources/beta/threads/threads';
import type { Assistant, AssistantPage } from '../../domain/assistant.ts';
import type { Run, RunPage, ToolOutput } from '../../domain/run.ts';
import { badUserInput } from '../../errors.ts';
import { normaliseDeleted, normaliseMessage, normaliseRun, normaliseThread, repeatsAnId } from '../answer-checks.ts';
import { type CallSpec, UpstreamCalls, type UpstreamSession, withIdempotencyKey } from '../calls/call-session.ts';
import { listPage, sdk, sdkRead, UpstreamShapeError } from '../calls/faults.ts';
import { createOpenAIClient, type OpenAIClientOptions } from '../sdk/openai-client.ts';
import { type HotReads, hotReads } from '../sdk/read-paths.ts';
import {
  type AssistantFields,
  type ListParams,
  listParams,
  type MessageListParams,
  type MessagePage,
  type NewMessage,
  type NewRun,
  type UpstreamApi,
  type UpstreamMessage,
} from '../upstream-api.ts';
import { explainActiveRun } from './active-run.ts';
import { ThreadsRestAssistants } from './assistants.ts';
import { ThreadsRestRunStreams } from './run-stream.ts';
import { listQuery, toRunCreate, toToolOutputs } from './run-wire.ts';

export interface ThreadsRestOptions extends OpenAIClientOptions {
  maxRetries: number;
}

/** The roles the Threads API takes as input; the graph knows more (Conversations takes them). */
const INPUT_ROLES = new Set(['user', 'assistant']);

function assertInputRole(role: string, argument: string): void {
  if (!INPUT_ROLES.has(role)) {
    throw badUserInput(
      `${argument}: the Threads API takes only USER and ASSISTANT messages as input, got ${role.toUpperCase()}`,
      argument,
    );
  }
}

/** The Threads REST API (Assistants API v2) through the SDK's `beta.threads`. */
export class ThreadsRestApi implements UpstreamApi {
  readonly kind = 'threads' as const;
  readonly baseURL: string;
  readonly #client: OpenAI;
  readonly #reads: HotReads;
  readonly #calls: UpstreamCalls;
  readonly #assistants: ThreadsRestAssistants;
  readonly #runStreams: ThreadsRestRunStreams;

  constructor(options: ThreadsRestOptions) {
    this.baseURL = options.baseURL;
    this.#client = createOpenAIClient(options);
    this.#reads = hotReads(this.#client, options.reads);
    this.#calls = new UpstreamCalls({
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      passThrough: options.apiKey === undefined,
      apiName: 'Threads API',
    });
    this.#assistants = new ThreadsRestAssistants(this.#client, this.#calls);
    this.#runStreams = new ThreadsRestRunStreams(this.#client, this.#calls);
  }

  /** The thread, or null when the upstream answers 404. */
  retrieveThread(session: UpstreamSession, id: string): Promise<Thread | null> {
    return this.#calls.read<Thread | null>(session, `threads/${id}`, {
      method: 'GET',
      route: '/threads/{id}',
      resource: 'thread',
      safety: 'idempotent',
      send: (options) => sdkRead(this.#reads.retrieveThread(id, options), (thread) => normaliseThread(thread, id)),
    });
  }

  createThread(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    for (const [index, message] of (body.messages ?? []).entries()) {
      assertInputRole(message.role, `input.messages[${index}].role`);
    }
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads',
      resource: 'thread',
      safety: 'create',
      send: async (options) =>
        normaliseThread(await sdk(this.#client.beta.threads.create(body, withIdempotencyKey(options, idempotencyKey)))),
    });
  }

  updateThread(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread> {
    this.#calls.forget(session, `threads/${id}`);
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}',
      resource: 'thread',
      safety: 'idempotent',
      send: async (options) => normaliseThread(await sdk(this.#client.beta.threads.update(id, body, options)), id),
    });
  }

  deleteThread(session: UpstreamSession, id: string): Promise<ThreadDeleted> {
    this.#calls.forget(session, `threads/${id}`, { under: true });
    return this.#calls.call<ThreadDeleted>(session, {
      method: 'DELETE',
      route: '/threads/{id}',
      resource: 'thread',
      safety: 'idempotent',
      on404AfterRetry: () => ({ id, object: 'thread.deleted', deleted: true }),
      send: async (options) => {
        const deleted = normaliseDeleted(await sdk(this.#client.beta.threads.delete(id, options)), id, 'thread');
        return { id: deleted.id, object: 'thread.deleted', deleted: deleted.deleted as true };
      },
    });
  }

  listMessages(session: UpstreamSession, threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    const query = `limit=${params.limit}&order=${params.order}${params.after ? `&after=${params.after}` : ''}${params.run_id ? `&run_id=${params.run_id}` : ''}`;
    return this.#calls.read<MessagePage | null>(session, `threads/${threadId}/messages?${query}`, {
      method: 'GET',
      route: '/threads/{id}/messages',
      resource: 'thread',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#reads.listMessages(threadId, listParams(params, params.after), options), (answer) => {
          const page = listPage(answer, params.limit, 'messages');
          const data = page.data.map((message) => normaliseMessage(message, threadId));
          // A server that ignores the filter would hand one run the messages of the whole thread.
          if (params.run_id && data.some((message) => message.run_id !== params.run_id)) {
            throw new UpstreamShapeError('a run_id list with messages of another run');
          }
          const ids = data.map((message) => message.id);
          // The cursor's own message counts as given: a page that starts with it went nowhere.
          if (repeatsAnId(ids, new Set(params.after ? [params.after] : []))) {
            throw new UpstreamShapeError('a list that repeats a message');
          }
          return { data, hasMore: page.hasMore };
        }),
    });
  }

  retrieveMessage(session: UpstreamSession, threadId: string, id: string): Promise<UpstreamMessage | null> {
    return this.#calls.read<UpstreamMessage | null>(session, `threads/${threadId}/messages/${id}`, {
      method: 'GET',
      route: '/threads/{id}/messages/{id}',
      resource: 'message',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#reads.retrieveMessage(threadId, id, options), (message) =>
          normaliseMessage(message, threadId, id),
        ),
    });
  }

  createMessage(
    session: UpstreamSession,
    threadId: string,
    body: NewMessage,
    idempotencyKey?: string,
  ): Promise<UpstreamMessage> {
    assertInputRole(body.role, 'input.role');
    const wire: MessageCreateParams = {
      role: body.role as MessageCreateParams['role'],
      content: body.content as MessageCreateParams['content'],
    };
    if (body.attachments != null) wire.attachments = body.attachments as MessageCreateParams['attachments'];
    if (body.metadata != null) wire.metadata = body.metadata;
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
    return this.#explained(session, threadId, {
      method: 'POST',
      route: '/threads/{id}/messages',
      // A 404 on a create names what it needed: the thread.
      resource: 'thread',
      safety: 'create',
      send: async (options) => {
        const message = await sdk(
          this.#client.beta.threads.messages.create(threadId, wire, withIdempotencyKey(options, idempotencyKey)),
        );
        return normaliseMessage(message, threadId);
      },
    });
  }

  updateMessage(
    session: UpstreamSession,
    threadId: string,
    id: string,
    metadata: Record<string, string>,
  ): Promise<UpstreamMessage> {
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}/messages/{id}',
      resource: 'message',
      safety: 'idempotent',
      send: async (options) => {
        const message = await sdk(
          this.#client.beta.threads.messages.update(id, { thread_id: threadId, metadata }, options),
        );
        return normaliseMessage(message, threadId, id);
      },
    });
  }

  deleteMessage(session: UpstreamSession, threadId: string, id: string): Promise<{ id: string; deleted: boolean }> {
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
    const spec: CallSpec<{ id: string; deleted: boolean }> = {
      method: 'DELETE',
      route: '/threads/{id}/messages/{id}',
      resource: 'message',
      safety: 'idempotent',
      on404AfterRetry: () => ({ id, deleted: true }),
      send: async (options) =>
        normaliseDeleted(
          await sdk(this.#client.beta.threads.messages.delete(id, { thread_id: threadId }, options)),
          id,
          'thread.message',
        ),
    };
    return this.#calls.call(session, spec);
  }

  createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run> {
    for (const [index, message] of (body.additionalMessages ?? []).entries()) {
      assertInputRole(message.role, `input.additionalMessages[${index}].role`);
    }
    const wire = toRunCreate(body);
    // A run writes messages and changes the thread's runs: no later read may join an older one.
    this.#calls.forget(session, `threads/${threadId}/runs`, { under: true });
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
    return this.#explained(session, threadId, {
      method: 'POST',
      route: '/threads/{id}/runs',
      // A 404 on a create names what the run needed: its thread, or the assistant it asked for.
      resource: 'thread or assistant',
      safety: 'create',
      send: async (options) =>
        normaliseRun(
          await sdk(this.#client.beta.threads.runs.create(threadId, wire, withIdempotencyKey(options, idempotencyKey))),
          threadId,
        ),
    });
  }

  /** `createRun` streamed (run-stream.ts). */
  createRunStreaming(session: UpstreamSession, threadId: string, body: NewRun, key?: string) {
    for (const [index, message] of (body.additionalMessages ?? []).entries()) {
      assertInputRole(message.role, `input.additionalMessages[${index}].role`);
    }
    return explainActiveRun(this.#runStreams.createRun(session, threadId, body, key), () =>
      this.#newestRun(session, threadId),
    );
  }

  /** A create on the thread, its refusal explained when the thread has a run in progress (active-run.ts). */
  #explained<T>(session: UpstreamSession, threadId: string, spec: CallSpec<T>): Promise<T> {
    return explainActiveRun(this.#calls.call(session, spec), () => this.#newestRun(session, threadId));
  }

  async #newestRun(session: UpstreamSession, threadId: string): Promise<Run | undefined> {
    return (await this.listRuns(session, threadId, { limit: 1, order: 'desc' }))?.data[0];
  }

  submitToolOutputsStreaming(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    this.#forgetRun(session, threadId, runId);
    return this.#runStreams.submitToolOutputs(session, threadId, runId, outputs);
  }

  retrieveRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run | null> {
    return this.#calls.read<Run | null>(session, `threads/${threadId}/runs/${runId}`, {
      method: 'GET',
      route: '/threads/{id}/runs/{id}',
      resource: 'run',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#reads.retrieveRun(threadId, runId, options), (run) => normaliseRun(run, threadId, runId)),
    });
  }

  listRuns(session: UpstreamSession, threadId: string, params: ListParams): Promise<RunPage | null> {
    const query = `limit=${params.limit}&order=${params.order}${params.after ? `&after=${params.after}` : ''}`;
    return this.#calls.read<RunPage | null>(session, `threads/${threadId}/runs?${query}`, {
      method: 'GET',
      route: '/threads/{id}/runs',
      resource: 'thread',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#client.beta.threads.runs.list(threadId, listQuery(params), options), (answer) => {
          const page = listPage(answer, params.limit, 'runs');
          const data = page.data.map((run) => normaliseRun(run, threadId));
          if (
            repeatsAnId(
              data.map((run) => run.id),
              new Set(params.after ? [params.after] : []),
            )
          ) {
            throw new UpstreamShapeError('a list that repeats a run');
          }
          return { data, hasMore: page.hasMore };
        }),
    });
  }

  submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]): Promise<Run> {
    this.#forgetRun(session, threadId, runId);
    const toolOutputs = toToolOutputs(outputs);
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}/runs/{id}/submit_tool_outputs',
      resource: 'run',
      // Sent once: a second submit after an unknown outcome would be refused by a run that moved on,
      // and the caller learns more from reading the run than from that refusal.
      safety: 'create',
      send: async (options) =>
        normaliseRun(
          await sdk(
            this.#client.beta.threads.runs.submitToolOutputs(
              runId,
              { thread_id: threadId, tool_outputs: toolOutputs, stream: false },
              options,
            ),
          ),
          threadId,
          runId,
        ),
    });
  }

  cancelRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run> {
    this.#forgetRun(session, threadId, runId);
    return this.#calls.call(session, {
      method: 'POST',
      route: '/threads/{id}/runs/{id}/cancel',
      resource: 'run',
      safety: 'idempotent',
      send: async (options) =>
        normaliseRun(
          await sdk(this.#client.beta.threads.runs.cancel(runId, { thread_id: threadId }, options)),
          threadId,
          runId,
        ),
    });
  }

  #forgetRun(session: UpstreamSession, threadId: string, _runId: string): void {
    // The run, the thread's run lists, and its messages (a run that moves on writes some).
    this.#calls.forget(session, `threads/${threadId}/runs`, { under: true });
    this.#calls.forget(session, `threads/${threadId}/messages`, { under: true });
  }

  retrieveAssistant(session: UpstreamSession, id: string): Promise<Assistant | null> {
    return this.#assistants.retrieve(session, id);
  }

  listAssistants(session: UpstreamSession, params: ListParams): Promise<AssistantPage> {
    return this.#assistants.list(session, params);
  }

  createAssistant(session: UpstreamSession, body: AssistantFields, idempotencyKey?: string): Promise<Assistant> {
    return this.#assistants.create(session, body, idempotencyKey);
  }

  updateAssistant(session: UpstreamSession, id: string, body: AssistantFields): Promise<Assistant> {
    return this.#assistants.update(session, id, body);
  }

  deleteAssistant(session: UpstreamSession, id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#assistants.remove(session, id);
  }
}
