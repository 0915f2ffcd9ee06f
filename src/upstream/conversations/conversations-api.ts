import type OpenAI from 'openai';
import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
} from 'openai/resources/beta/threads/threads';
import type { ConversationCreateParams } from 'openai/resources/conversations/conversations';
import type { ItemCreateParams } from 'openai/resources/conversations/items';
import type { Assistant, AssistantPage } from '../../domain/assistant.ts';
import { toMessageItem } from '../../domain/conversation-items.ts';
import { MAX_PAGE_SIZE } from '../../domain/message-pagination.ts';
import type { Run, RunPage, ToolOutput } from '../../domain/run.ts';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { badUserInput, ErrorCode, GatewayError } from '../../errors.ts';
import type { RunRecords } from '../../features/runs/run-records.ts';
import { normaliseDeleted, repeatsAnId, servableId } from '../answer-checks.ts';
import { callNow, UpstreamCalls, type UpstreamSession, withIdempotencyKey } from '../calls/call-session.ts';
import { listPage, sdk, sdkRead, UpstreamShapeError, upstreamError } from '../calls/faults.ts';
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
import {
  CONVERSATIONS_API,
  type Refusal,
  refuseMessage,
  refuseMessageUpdate,
  refuseRuns,
  refuseThreadCreate,
  refuseThreadUpdate,
  toConversationCreate,
  toMessage,
  toThread,
} from './mapping.ts';
import { ResponsesRuns } from './responses-runs.ts';

export interface ConversationsApiOptions extends OpenAIClientOptions {
  maxRetries: number;
  /** The gateway's run and assistant records: runs are served over the Responses API with them. */
  runRecords?: RunRecords;
}

/** The gateway's error for what the Conversations API cannot carry, raised before any call. */
function refused(refusal: Refusal): GatewayError {
  if (refusal.kind === 'limit') return badUserInput(refusal.message, refusal.argument);
  return new GatewayError(ErrorCode.UNSUPPORTED_BY_UPSTREAM, refusal.message, {
    extensions: { argument: refusal.argument, upstreamApi: 'conversations' },
  });
}

/** One raw page of items, as the list endpoint answers it. */
interface ItemPage {
  /** The ids of every item of the page, messages or not, in order. */
  ids: string[];
  /** The page's message items, as messages. */
  messages: UpstreamMessage[];
  hasMore: boolean;
}

/**
 * The graph served over OpenAI's Conversations API, through the SDK's `conversations` and
 * `conversations.items`: a thread is a conversation, a message is a message item (other item types
 * are skipped). It shares the Threads adapter's per-call machinery: retry policy, deadline, budget,
 * records, coalescing, and the rule that a create is never resent after an unknown outcome.
 */
export class ConversationsApi implements UpstreamApi {
  readonly kind = 'conversations' as const;
  readonly baseURL: string;
  readonly #client: OpenAI;
  readonly #reads: HotReads;
  readonly #calls: UpstreamCalls;
  readonly #responsesRuns: ResponsesRuns | undefined;
  /** Assistant pages read in one request, by page: a request's aliases of one page share a read. */
  readonly #assistantPages = new WeakMap<UpstreamSession, Map<string, Promise<AssistantPage>>>();

  constructor(options: ConversationsApiOptions) {
    this.baseURL = options.baseURL;
    this.#client = createOpenAIClient(options);
    this.#reads = hotReads(this.#client, options.reads);
    this.#calls = new UpstreamCalls({
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      passThrough: options.apiKey === undefined,
      apiName: CONVERSATIONS_API,
    });
    this.#responsesRuns = options.runRecords
      ? new ResponsesRuns(this.#client, this.#calls, options.runRecords, refused)
      : undefined;
  }

  retrieveThread(session: UpstreamSession, id: string): Promise<Thread | null> {
    return this.#calls.read<Thread | null>(session, `conversations/${id}`, {
      method: 'GET',
      route: '/conversations/{id}',
      resource: 'thread',
      safety: 'idempotent',
      send: (options) => sdkRead(this.#reads.retrieveConversation(id, options), (thread) => toThread(thread, id)),
    });
  }

  createThread(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    const refusal = refuseThreadCreate(body);
    if (refusal) return Promise.reject(refused(refusal));
    // Our items are the API's message items; the SDK types an assistant's `output_text` item as an
    // output message that needs the id and status the API assigns, so the body is typed here.
    const wire = toConversationCreate(body) as ConversationCreateParams;
    return this.#calls.call(session, {
      method: 'POST',
      route: '/conversations',
      resource: 'thread',
      safety: 'create',
      send: async (options) =>
        toThread(await sdk(this.#client.conversations.create(wire, withIdempotencyKey(options, idempotencyKey)))),
    });
  }

  updateThread(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread> {
    const refusal = refuseThreadUpdate(body);
    if (refusal) return Promise.reject(refused(refusal));
    if (body.metadata === undefined) {
      // Only `toolResources: null` was asked for, which every conversation already has.
      return this.retrieveThread(session, id).then((thread) => {
        if (thread) return thread;
        throw new GatewayError(ErrorCode.NOT_FOUND, 'The thread was not found.');
      });
    }
    // A null metadata clears it, as on the Threads API; the Conversations API takes `{}` for that.
    const metadata = (body.metadata ?? {}) as Record<string, string>;
    this.#calls.forget(session, `conversations/${id}`);
    return this.#calls.call(session, {
      method: 'POST',
      route: '/conversations/{id}',
      resource: 'thread',
      safety: 'idempotent',
      send: async (options) => toThread(await sdk(this.#client.conversations.update(id, { metadata }, options)), id),
    });
  }

  deleteThread(session: UpstreamSession, id: string): Promise<ThreadDeleted> {
    this.#calls.forget(session, `conversations/${id}`, { under: true });
    return this.#calls
      .call<ThreadDeleted>(session, {
        method: 'DELETE',
        route: '/conversations/{id}',
        resource: 'thread',
        safety: 'idempotent',
        on404AfterRetry: () => ({ id, object: 'thread.deleted', deleted: true }),
        send: async (options) => {
          const deleted = normaliseDeleted(
            await sdk(this.#client.conversations.delete(id, options)),
            id,
            'conversation',
          );
          return { id: deleted.id, object: 'thread.deleted', deleted: deleted.deleted as true };
        },
      })
      .then(async (deleted) => {
        await this.#responsesRuns?.deleteRuns(id);
        return deleted;
      });
  }

  /**
   * A page of the conversation's message items. Items of other types are skipped, which can leave
   * a page short while the upstream has more: then it reads on from the last item seen until the
   * page is full or the list ends. Each extra call is a call of the request (budget, deadline).
   */
  async listMessages(
    session: UpstreamSession,
    threadId: string,
    params: MessageListParams,
  ): Promise<MessagePage | null> {
    // A run's messages are its responses' message items, which the run keeps.
    if (params.run_id) return this.#runs('messages').listMessages(threadId, params);
    const data: UpstreamMessage[] = [];
    let after = params.after;
    // Checked here, not in the call: a joined in-flight read ran another request's read-on.
    const seen = new Set(after ? [after] : []);
    let limit = params.limit;
    for (;;) {
      const page = await this.#listItems(session, threadId, { ...params, limit }, after);
      if (!page) return null;
      if (repeatsAnId(page.ids, seen)) {
        throw upstreamError({ kind: 'malformed' }, { apiName: CONVERSATIONS_API, resource: 'thread' });
      }
      const { messages } = page;
      const room = params.limit - data.length;
      if (messages.length > room) {
        // Full, with messages left over: the next page starts after the last one served.
        data.push(...messages.slice(0, room));
        return { data, hasMore: true };
      }
      data.push(...messages);
      const last = page.ids.at(-1);
      // An empty page that claims more would never end: the list has nothing more for us.
      if (data.length === params.limit || !page.hasMore || last === undefined) {
        return { data, hasMore: page.hasMore && last !== undefined };
      }
      after = last;
      // Reading on, items are asked for by the API's largest page: a conversation can hold hundreds
      // of tool calls and reasoning items between two messages, each call is one of the request's
      // budget, and messages past the page's room are left for the next page anyway.
      limit = MAX_PAGE_SIZE;
    }
  }

  #listItems(
    session: UpstreamSession,
    threadId: string,
    params: MessageListParams,
    after: string | undefined,
  ): Promise<ItemPage | null> {
    const query = `limit=${params.limit}&order=${params.order}${after ? `&after=${after}` : ''}`;
    return this.#calls.read<ItemPage | null>(session, `conversations/${threadId}/items?${query}`, {
      method: 'GET',
      route: '/conversations/{id}/items',
      resource: 'thread',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#reads.listItems(threadId, listParams(params, after), options), (answer) => {
          const page = listPage(answer, params.limit, 'conversation items');
          // Every item's id, messages or not: the last one is the next read's `after`.
          const ids = page.data.map((item) => {
            if (!isPlainObject(item)) throw new UpstreamShapeError('a conversation item is not an object');
            return servableId(item.id, 'a conversation item');
          });
          // Mapped in the call, so an item that is not what the API documents is UPSTREAM_ERROR.
          const messages = page.data
            .map((item) => toMessage(item, threadId))
            .filter((message): message is UpstreamMessage => message !== null);
          return { ids, messages, hasMore: page.hasMore };
        }),
    });
  }

  retrieveMessage(session: UpstreamSession, threadId: string, id: string): Promise<UpstreamMessage | null> {
    return this.#calls.read<UpstreamMessage | null>(session, `conversations/${threadId}/items/${id}`, {
      method: 'GET',
      route: '/conversations/{id}/items/{id}',
      resource: 'message',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#reads.retrieveItem(threadId, id, options), (item) => toMessage(item, threadId, id)),
    });
  }

  createMessage(
    session: UpstreamSession,
    threadId: string,
    body: NewMessage,
    idempotencyKey?: string,
  ): Promise<UpstreamMessage> {
    const refusal = refuseMessage(body, 'input.');
    if (refusal) return Promise.reject(refused(refusal));
    // See createThread: our message item is typed here, not by the SDK's output-message type.
    const wire = { items: [toMessageItem(body.role, body.content)] } as ItemCreateParams;
    this.#calls.forget(session, `conversations/${threadId}/items`, { under: true });
    return this.#calls.call(session, {
      method: 'POST',
      route: '/conversations/{id}/items',
      // A 404 on a create names what it needed: the thread.
      resource: 'thread',
      safety: 'create',
      send: async (options) => {
        const list = await sdk(
          this.#client.conversations.items.create(threadId, wire, withIdempotencyKey(options, idempotencyKey)),
        );
        const created = Array.isArray(list?.data) && list.data.length === 1 ? toMessage(list.data[0], threadId) : null;
        if (!created) throw new UpstreamShapeError('not the one message item asked for');
        return created;
      },
    });
  }

  updateMessage(): Promise<UpstreamMessage> {
    return Promise.reject(refused(refuseMessageUpdate()));
  }

  // Runs and assistants over the Responses API (responses-runs.ts), with the gateway's own records;
  // without records (the bench's adapters, the `auto` probe's) each is refused before any call.
  #runs(argument: string): ResponsesRuns {
    if (!this.#responsesRuns) throw refused(refuseRuns(argument));
    return this.#responsesRuns;
  }

  createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run> {
    return callNow(() => this.#runs('createRun').createRun(session, threadId, body, idempotencyKey));
  }

  retrieveRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run | null> {
    return callNow(() => this.#runs('run').retrieveRun(session, threadId, runId));
  }

  listRuns(session: UpstreamSession, threadId: string, params: ListParams): Promise<RunPage | null> {
    return callNow(() =>
      this.#runs('runs').listRuns(
        threadId,
        params,
        async () => (await this.retrieveThread(session, threadId)) !== null,
      ),
    );
  }

  submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]): Promise<Run> {
    return callNow(() => this.#runs('submitToolOutputs').submitToolOutputs(session, threadId, runId, outputs));
  }

  cancelRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run> {
    return callNow(() => this.#runs('cancelRun').cancelRun(session, threadId, runId));
  }

  createRunStreaming(session: UpstreamSession, threadId: string, body: NewRun, key?: string) {
    return callNow(() => this.#runs('createRun').createRunStreaming(session, threadId, body, key));
  }

  submitToolOutputsStreaming(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    return callNow(() => this.#runs('submitToolOutputs').submitToolOutputsStreaming(session, threadId, runId, outputs));
  }

  resumeRunStream(_session: UpstreamSession, threadId: string, runId: string, position: string) {
    return callNow(() => this.#runs('runEvents').resumeRunStream(threadId, runId, position));
  }

  retrieveAssistant(session: UpstreamSession, id: string): Promise<Assistant | null> {
    return this.#charged(session, 'assistant', (runs) => runs.retrieveAssistant(id));
  }

  listAssistants(session: UpstreamSession, params: ListParams): Promise<AssistantPage> {
    // Identical pages in one request (aliases) read the records once: each read parses every
    // assistant of the page, instructions and all.
    const key = `${params.limit}&${params.order}&${params.after ?? ''}`;
    let pages = this.#assistantPages.get(session);
    if (!pages) {
      pages = new Map();
      this.#assistantPages.set(session, pages);
    }
    let page = pages.get(key);
    if (!page) {
      page = this.#charged(session, 'assistants', (runs) => runs.listAssistants(params));
      pages.set(key, page);
    }
    return page;
  }

  createAssistant(session: UpstreamSession, body: AssistantFields): Promise<Assistant> {
    return this.#charged(session, 'createAssistant', (runs) => runs.createAssistant(body));
  }

  updateAssistant(session: UpstreamSession, id: string, body: AssistantFields): Promise<Assistant> {
    this.#assistantPages.delete(session);
    return this.#charged(session, 'updateAssistant', (runs) => runs.updateAssistant(id, body));
  }

  deleteAssistant(session: UpstreamSession, id: string): Promise<{ id: string; deleted: boolean }> {
    this.#assistantPages.delete(session);
    return this.#charged(session, 'deleteAssistant', (runs) => runs.deleteAssistant(id));
  }

  /** Records cost the request as an upstream call (a slot of its budget and of its caller's rate limit). */
  async #charged<T>(session: UpstreamSession, argument: string, work: (runs: ResponsesRuns) => Promise<T>): Promise<T> {
    const runs = this.#runs(argument);
    await session.budget.acquire();
    try {
      return await work(runs);
    } finally {
      session.budget.release();
    }
  }

  deleteMessage(session: UpstreamSession, threadId: string, id: string): Promise<{ id: string; deleted: boolean }> {
    this.#calls.forget(session, `conversations/${threadId}/items`, { under: true });
    return this.#calls.call(session, {
      method: 'DELETE',
      route: '/conversations/{id}/items/{id}',
      resource: 'message',
      safety: 'idempotent',
      on404AfterRetry: () => ({ id, deleted: true }),
      send: async (options) => {
        // The API answers an item delete with the conversation it was deleted from.
        toThread(
          await sdk(this.#client.conversations.items.delete(id, { conversation_id: threadId }, options)),
          threadId,
        );
        return { id, deleted: true };
      },
    });
  }
}
