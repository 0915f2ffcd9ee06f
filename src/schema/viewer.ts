import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type MessageOrder } from '../domain/message-pagination.ts';
import { planThreadList, threadListCursor } from '../domain/thread-list.ts';
import { badUserInput, ErrorCode, GatewayError } from '../errors.ts';
import type { ListedThread } from '../features/thread-index/caller-threads.ts';
import type { Thread } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { PageInfoRef } from './page-info.ts';
import { ThreadRef } from './thread.ts';
import { assertThreadId, loadThread } from './thread-input.ts';
import { MessageOrderRef } from './thread-message-connection.ts';

/** Fields of a listed thread the list itself answers, without reading the thread upstream. */
const FREE = ['id', '__typename'] as const;

interface ViewerShape {
  readonly viewer: true;
}

interface ThreadConnectionShape {
  entries: Array<ListedThread<Thread> & { node: Thread }>;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  binding: string;
  filter: Record<string, string>;
}

const ThreadEdgeRef = builder
  .objectRef<ListedThread<Thread> & { node: Thread; binding: string }>('ThreadEdge')
  .implement({
    description: 'A thread of the caller’s list, with its cursor.',
    fields: (t) => ({
      cursor: t.string({
        description:
          'An opaque cursor for this entry, for this caller and filter only: pass it as `after` or `before`.',
        resolve: (edge) => threadListCursor(edge.binding, edge.createdAt, edge.threadId),
      }),
      node: t.field({
        type: ThreadRef,
        description: 'The thread, read upstream when more than its id is asked for.',
        extensions: { cost: { readsEach: { entity: 'Thread', free: FREE } } },
        resolve: (edge) => edge.node,
      }),
    }),
  });

const ThreadConnectionRef = builder.objectRef<ThreadConnectionShape>('ThreadConnection').implement({
  description: 'One page of the caller’s thread list (a Relay connection).',
  fields: (t) => ({
    edges: t.field({
      type: [ThreadEdgeRef],
      description: 'The threads of this page with their cursors, in the connection’s order.',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection) => connection.entries.map((entry) => ({ ...entry, binding: connection.binding })),
    }),
    nodes: t.field({
      type: [ThreadRef],
      description: 'The threads of this page, in the connection’s order (the edges without cursors).',
      extensions: { cost: { listSize: 'page', readsEach: { entity: 'Thread', free: FREE } } },
      resolve: (connection) => connection.entries.map((entry) => entry.node),
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: 'Where this page sits: cursors of its ends and whether there is more.',
      resolve: (connection) => {
        const first = connection.entries[0];
        const last = connection.entries.at(-1);
        const cursor = (entry: ListedThread | undefined) =>
          entry ? threadListCursor(connection.binding, entry.createdAt, entry.threadId) : null;
        return {
          hasNextPage: connection.hasNextPage,
          hasPreviousPage: connection.hasPreviousPage,
          startCursor: cursor(first),
          endCursor: cursor(last),
        };
      },
    }),
    totalCount: t.int({
      description: 'How many threads of the caller’s list match the filter (threads gone upstream count until met).',
      extensions: { cost: { upstreamCalls: 0 } },
      resolve: (connection, _args, ctx) => ctx.threadList.count(connection.filter),
    }),
  }),
});

const ViewerRef = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'The caller: whoever presented this request’s gateway token, upstream key, or no credential.',
  fields: (t) => ({
    threads: t.field({
      type: ThreadConnectionRef,
      description: `The caller’s threads: those created through the gateway, and those adopted. Forward: \`first\` (default ${DEFAULT_PAGE_SIZE}) after the \`after\` cursor; backward: the \`last\` before the \`before\` cursor; in \`order\`. A thread that has gone upstream is dropped from the list when met, and the page still holds \`first\` entries when more exist.`,
      args: {
        first: t.arg.int({ description: `Page forward: at most this many threads, 1 to ${MAX_PAGE_SIZE}.` }),
        after: t.arg.string({ description: 'Page forward from the thread with this cursor (not included).' }),
        last: t.arg.int({ description: `Page backward: at most this many threads, 1 to ${MAX_PAGE_SIZE}.` }),
        before: t.arg.string({ description: 'Page backward from the thread with this cursor (not included).' }),
        order: t.arg({
          type: MessageOrderRef,
          defaultValue: 'desc',
          description: 'The order of the threads, by creation: DESC, newest first, by default.',
        }),
        metadata: t.arg({
          type: 'JSON',
          description:
            'Only threads whose metadata holds every one of these pairs exactly, `{key: value, …}`, at most 16.',
        }),
      },
      extensions: {
        cost: { page: { fromArgs: ['first', 'last'], default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE } },
      },
      resolve: async (_viewer, args, ctx, info): Promise<ThreadConnectionShape> => {
        const plan = planThreadList({ ...args, order: (args.order ?? 'desc') as MessageOrder }, ctx.callerId);
        if ('message' in plan) throw badUserInput(plan.message, plan.argument);
        const read = readsThreads(info) ? (ids: readonly string[]) => ctx.loaders.thread.loadMany(ids) : undefined;
        const page = await ctx.threadList.page(plan, read);
        const entries = page.entries.map((entry) => ({
          ...entry,
          node: entry.thread ?? {
            id: entry.threadId,
            object: 'thread' as const,
            created_at: entry.createdAt,
            metadata: {},
            tool_resources: null,
          },
        }));
        if (plan.backward) entries.reverse();
        return {
          entries,
          hasNextPage: !plan.backward && page.more,
          hasPreviousPage: plan.backward && page.more,
          binding: plan.binding,
          filter: plan.filter,
        };
      },
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'The caller, and what the gateway keeps for it: its thread list.',
    extensions: { cost: { upstreamCalls: 0 } },
    resolve: () => ({ viewer: true as const }),
  }),
);

builder.mutationFields((t) => ({
  adoptThread: t.field({
    type: ThreadRef,
    description:
      'Puts an existing thread (created elsewhere) on the caller’s list, after reading it upstream with the caller’s credential. A missing thread is a `NOT_FOUND` error.',
    args: { id: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }) },
    extensions: { cost: { batched: { loader: 'thread', keyArgs: ['id'] }, loads: 'Thread' } },
    resolve: async (_root, { id }, ctx) => {
      const threadId = String(id);
      assertThreadId(threadId, 'id');
      const thread = await loadThread(ctx, threadId);
      if (!thread) throw new GatewayError(ErrorCode.NOT_FOUND, `No thread ${threadId}.`);
      await ctx.threadList.listed(thread);
      return thread;
    },
  }),
  forgetThread: t.boolean({
    description:
      'Takes a thread off the caller’s list without deleting it upstream; false when it was not on the list.',
    args: { id: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }) },
    extensions: { cost: { upstreamCalls: 0 } },
    resolve: (_root, { id }, ctx) => {
      const threadId = String(id);
      assertThreadId(threadId, 'id');
      return ctx.threadList.forget(threadId);
    },
  }),
}));

/** Whether the connection's selection asks for more of a thread than the list answers itself. */
function readsThreads(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.some((field) => selectionReads(field.selectionSet, info, 0));
}

function selectionReads(set: SelectionSetNode | undefined, info: GraphQLResolveInfo, depth: number): boolean {
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === 'nodes' && beyondFree(selection)) return true;
      if (selection.name.value === 'edges') {
        for (const inner of selection.selectionSet?.selections ?? []) {
          if (inner.kind !== Kind.FIELD) return true;
          if (inner.name.value === 'node' && beyondFree(inner)) return true;
        }
      }
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : info.fragments[selection.name.value];
      if (depth > 8 || selectionReads(fragment?.selectionSet, info, depth + 1)) return true;
    }
  }
  return false;
}

function beyondFree(field: FieldNode): boolean {
  return (field.selectionSet?.selections ?? []).some(
    (selection) => selection.kind !== Kind.FIELD || !(FREE as readonly string[]).includes(selection.name.value),
  );
}
