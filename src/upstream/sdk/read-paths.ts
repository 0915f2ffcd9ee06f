import type OpenAI from 'openai';
import type { ConversationCursorPageResponse, CursorPageResponse } from 'openai/pagination';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import type { Thread } from 'openai/resources/beta/threads/threads';
import type { Conversation } from 'openai/resources/conversations/conversations';
import type { ConversationItem } from 'openai/resources/conversations/items';
import { isPlainObject } from '../../domain/thread-rules.ts';
import type { MessageListParams } from '../upstream-api.ts';
import { LeanOpenAI, type ReadOptions, sdkPath } from './fast-read-client.ts';

/**
 * The adapters' hot reads: every GET behind a thread read, a message page or a message read, on
 * either API, and a run read on the Threads API (what a client polls until its run ends). Two implementations, one contract:
 *
 * - `sdkReads`: the SDK's resource methods (`beta.threads.retrieve`, `conversations.items.list`, …);
 * - `leanReads`: the same requests through `LeanOpenAI.read` (issue 12, option 2), which skips the
 *   SDK's per-call machinery but builds the same request, parses by the same rules and fails with
 *   the SDK's own error objects.
 *
 * test/upstream/lean-read.test.ts runs every read both ways against the same upstreams (the local
 * backend over HTTP, a test upstream with its faults, both APIs) and requires identical answers,
 * errors and upstream requests. Writes always go through the SDK's resource methods.
 */
export interface HotReads {
  retrieveThread(id: string, options: ReadOptions): Promise<Thread>;
  listMessages(threadId: string, query: MessageListParams, options: ReadOptions): Promise<CursorPageResponse<Message>>;
  retrieveMessage(threadId: string, id: string, options: ReadOptions): Promise<Message>;
  retrieveRun(threadId: string, id: string, options: ReadOptions): Promise<Run>;
  retrieveConversation(id: string, options: ReadOptions): Promise<Conversation>;
  listItems(
    conversationId: string,
    query: MessageListParams,
    options: ReadOptions,
  ): Promise<ConversationCursorPageResponse<ConversationItem>>;
  retrieveItem(conversationId: string, id: string, options: ReadOptions): Promise<ConversationItem>;
}

/** Which read path the adapters use: `lean` (the default) or the SDK's resource methods. */
export type ReadPath = 'lean' | 'sdk';

export function hotReads(client: OpenAI, path: ReadPath = 'lean'): HotReads {
  return path === 'lean' && client instanceof LeanOpenAI ? leanReads(client) : sdkReads(client);
}

function sdkReads(client: OpenAI): HotReads {
  return {
    retrieveThread: (id, options) => client.beta.threads.retrieve(id, options),
    listMessages: (threadId, query, options) => client.beta.threads.messages.list(threadId, query, options),
    retrieveMessage: (threadId, id, options) =>
      client.beta.threads.messages.retrieve(id, { thread_id: threadId }, options),
    retrieveRun: (threadId, id, options) => client.beta.threads.runs.retrieve(id, { thread_id: threadId }, options),
    retrieveConversation: (id, options) => client.conversations.retrieve(id, options),
    listItems: (conversationId, query, options) => client.conversations.items.list(conversationId, query, options),
    retrieveItem: (conversationId, id, options) =>
      client.conversations.items.retrieve(id, { conversation_id: conversationId }, options),
  };
}

/** The Assistants API's beta header, under the call's own (plain) headers as the SDK's resources merge them. */
function threadsApi(options: ReadOptions): ReadOptions {
  return { ...options, headers: { 'OpenAI-Beta': 'assistants=v2', ...(options.headers as Record<string, string>) } };
}

/**
 * A list answer as the SDK's page classes read it: `data || []`, `has_more || false` (and
 * `last_id || ''` for conversations). A body that is not an object fails there with a TypeError
 * while the page is built; reading it here fails the same way.
 */
async function asPage<Item>(answer: Promise<unknown>): Promise<ConversationCursorPageResponse<Item>> {
  const body = (await answer) as Partial<ConversationCursorPageResponse<Item>>;
  return { data: body.data || [], has_more: body.has_more || false, last_id: body.last_id || '' };
}

function leanReads(client: LeanOpenAI): HotReads {
  const sdk = sdkReads(client);
  // The beta header is merged into a plain header object; headers in any other form (a `Headers`,
  // pairs) are merged by the SDK's own resource methods instead.
  const plain = (options: ReadOptions) => options.headers === undefined || isPlainObject(options.headers);
  return {
    retrieveThread: (id, options) =>
      plain(options) ? client.read(sdkPath`/threads/${id}`, threadsApi(options)) : sdk.retrieveThread(id, options),
    listMessages: (threadId, query, options) =>
      plain(options)
        ? asPage<Message>(client.read(sdkPath`/threads/${threadId}/messages`, { query, ...threadsApi(options) }))
        : sdk.listMessages(threadId, query, options),
    retrieveMessage: (threadId, id, options) =>
      plain(options)
        ? client.read(sdkPath`/threads/${threadId}/messages/${id}`, threadsApi(options))
        : sdk.retrieveMessage(threadId, id, options),
    retrieveRun: (threadId, id, options) =>
      plain(options)
        ? client.read(sdkPath`/threads/${threadId}/runs/${id}`, threadsApi(options))
        : sdk.retrieveRun(threadId, id, options),
    retrieveConversation: (id, options) => client.read(sdkPath`/conversations/${id}`, options),
    listItems: (conversationId, query, options) =>
      asPage<ConversationItem>(client.read(sdkPath`/conversations/${conversationId}/items`, { query, ...options })),
    retrieveItem: (conversationId, id, options) =>
      client.read(sdkPath`/conversations/${conversationId}/items/${id}`, { query: {}, ...options }),
  };
}
