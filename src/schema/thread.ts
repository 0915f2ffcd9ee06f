import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { badUserInput } from '../errors.ts';
import type { Thread } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { NodeRef } from './node.ts';
import {
  assertThreadId,
  type CreateThreadInputShape,
  loadThreads,
  toCreateParams,
  toUpdateParams,
  type UpdateThreadInputShape,
} from './thread-input.ts';
import { ThreadMessageInput } from './thread-message-input.ts';
import { loadThreadForSelection } from './thread-read.ts';

export const ThreadRef = builder.objectRef<Thread>('Thread').implement({
  description: 'A conversation thread of the Threads API (Assistants API v2).',
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'The thread id (`thread_…`). Thread ids are globally unique, so they serve as global ids.',
    }),
    createdAt: t.int({
      description: 'When the thread was created, in Unix seconds (the API’s `created_at`).',
      resolve: (thread) => thread.created_at,
    }),
    metadata: t.field({
      type: 'JSON',
      description: 'Up to 16 string key/value pairs attached to the thread; `{}` when it has none.',
      resolve: (thread) => thread.metadata ?? {},
    }),
    toolResources: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'The API’s `tool_resources`, as it documents them (snake_case inside): `code_interpreter.file_ids` and `file_search.vector_store_ids`. Null when the thread has none; always null over the Conversations API.',
      resolve: (thread) => thread.tool_resources ?? null,
    }),
  }),
});

// An Apollo Federation entity: other subgraphs reference threads by id, and `_entities` loads
// those references through the request's loader, batched like every other read.
builder.asEntity(ThreadRef, {
  key: builder.selection<{ id: string }>('id'),
  // Async, so a bad reference fails only its own entry of `_entities`.
  resolveReference: async (reference, ctx) => {
    // A representation without a string id (missing, null, a list) names no thread: never "undefined".
    const id: unknown = (reference as { id?: unknown }).id;
    if (typeof id !== 'string')
      throw badUserInput('representations.id: a Thread reference needs its id, a string', 'representations');
    assertThreadId(id, 'representations.id');
    return ctx.loaders.thread.load(id);
  },
});

const CreateThreadInput = builder.inputRef<CreateThreadInputShape>('CreateThreadInput').implement({
  description: 'A new thread.',
  fields: (t) => ({
    messages: t.field({
      type: [ThreadMessageInput],
      description:
        'Messages to start the thread with, in order. Over the Conversations API: at most 20 (BAD_USER_INPUT beyond).',
    }),
    toolResources: t.field({
      type: 'JSON',
      description:
        'The API’s `tool_resources` (snake_case inside): `{code_interpreter: {file_ids (≤ 20)}, file_search: {vector_store_ids (≤ 1)}}`. Refused (UNSUPPORTED_BY_UPSTREAM) over the Conversations API unless null.',
    }),
    metadata: t.field({
      type: 'JSON',
      description: 'Up to 16 string pairs (keys ≤ 64, values ≤ 512 characters).',
    }),
    idempotencyKey: t.string({
      description:
        'Makes the create safe to retry: the same key from the same caller within 24 hours returns the thread first created for it instead of creating another. 1 to 255 printable ASCII characters.',
    }),
  }),
});

const UpdateThreadInput = builder.inputRef<UpdateThreadInputShape>('UpdateThreadInput').implement({
  description:
    'Changes to a thread. Only the fields present are sent; each replaces the stored value, and an explicit null is sent as null.',
  fields: (t) => ({
    metadata: t.field({ type: 'JSON', description: 'The new metadata, replacing the old (up to 16 string pairs).' }),
    toolResources: t.field({
      type: 'JSON',
      description:
        'The new `tool_resources`, replacing the old. Refused (UNSUPPORTED_BY_UPSTREAM) over the Conversations API unless null.',
    }),
  }),
});

builder.queryType({ description: 'Reads.' });
builder.mutationType({ description: 'Writes.' });

builder.queryFields((t) => ({
  thread: t.field({
    type: ThreadRef,
    nullable: true,
    description: 'The thread with this id, or null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }) },
    extensions: { cost: { batched: { loader: 'thread', keyArgs: ['id'] }, loads: 'Thread' } },
    resolve: (_root, { id }, ctx, info) => loadThreadForSelection(ctx, id, info),
  }),
  threads: t.field({
    type: [ThreadRef],
    nullable: { list: false, items: true },
    description: `The threads with these ids, one entry per id in order; null for a missing id. At most ${MAX_IDS_PER_FIELD} ids.`,
    args: {
      ids: t.arg.idList({ required: true, description: `Thread ids, at most ${MAX_IDS_PER_FIELD}.` }),
    },
    extensions: {
      cost: { batched: { loader: 'thread', idsArg: 'ids' }, listSize: { idsArg: 'ids' }, loads: 'Thread' },
    },
    resolve: (_root, { ids }, ctx) => loadThreads(ctx, ids),
  }),
}));

builder.mutationFields((t) => ({
  createThread: t.field({
    type: ThreadRef,
    description:
      'Creates a thread. It is never sent upstream twice by the gateway; when the outcome is unknown the error says `extensions.outcome: "unknown"`, and a retry with the same `idempotencyKey` is safe.',
    args: { input: t.arg({ type: CreateThreadInput, description: 'The new thread; omit for an empty one.' }) },
    extensions: { cost: { upstreamCalls: 1, loads: 'Thread' } },
    resolve: async (_root, { input }, ctx) => {
      const params = toCreateParams(input);
      const key = input?.idempotencyKey;
      let created = !key;
      const thread = key
        ? await ctx.idempotentCreates.run(ctx.callerId, key, params, (upstreamKey) => {
            created = true;
            return ctx.upstream.createThread(params, upstreamKey);
          })
        : await ctx.upstream.createThread(params);
      // A replay (the key's create was made before) answers the thread first created for it; one
      // deleted since is not put back on the caller's list (an entry for a thread that is gone). The
      // read is the request's one upstream call: the replay made none.
      if (!created && !(await ctx.loaders.thread.load(thread.id))) return thread;
      ctx.loaders.thread.clear(thread.id).prime(thread.id, thread);
      // After the upstream acknowledged: a list that cannot be written only warns.
      await ctx.threadList.listed(thread);
      return thread;
    },
  }),
  updateThread: t.field({
    type: ThreadRef,
    description: 'Changes a thread’s metadata or tool resources. A missing thread is a `NOT_FOUND` error.',
    args: {
      id: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      input: t.arg({ type: UpdateThreadInput, required: true, description: 'The fields to replace.' }),
    },
    extensions: { cost: { upstreamCalls: 1, loads: 'Thread' } },
    resolve: async (_root, { id, input }, ctx) => {
      const threadId = String(id);
      assertThreadId(threadId, 'id');
      const thread = await ctx.upstream.updateThread(threadId, toUpdateParams(input));
      ctx.loaders.thread.clear(threadId).prime(threadId, thread);
      await ctx.threadList.updated(thread);
      return thread;
    },
  }),
}));
