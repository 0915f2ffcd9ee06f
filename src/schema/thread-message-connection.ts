import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type MessageOrder,
  messageCursor,
  planPage,
} from '../domain/message-pagination.ts';
import { badUserInput } from '../errors.ts';
import type { UpstreamMessage } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { PageInfoRef } from './page-info.ts';
import { ThreadRef } from './thread.ts';
import { ThreadMessageRef } from './thread-message.ts';

interface Connection {
  messages: UpstreamMessage[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const MessageOrderRef = builder.enumType('MessageOrder', {
  description: 'The order of a thread’s messages in a connection, by creation.',
  values: {
    ASC: { value: 'asc', description: 'Oldest first.' },
    DESC: { value: 'desc', description: 'Newest first (the default, as the API’s).' },
  } as const,
});

const ThreadMessageEdgeRef = builder.objectRef<UpstreamMessage>('ThreadMessageEdge').implement({
  description: 'A message of a connection, with its cursor.',
  fields: (t) => ({
    cursor: t.string({
      description: 'An opaque cursor for this message, stable for it: pass it as `after` or `before`.',
      resolve: (message) => messageCursor(message.thread_id, message.id),
    }),
    node: t.field({ type: ThreadMessageRef, description: 'The message.', resolve: (message) => message }),
  }),
});

const ThreadMessageConnectionRef = builder.objectRef<Connection>('ThreadMessageConnection').implement({
  description: 'One page of a thread’s messages (a Relay connection).',
  fields: (t) => ({
    edges: t.field({
      type: [ThreadMessageEdgeRef],
      description: 'The messages of this page with their cursors, in the connection’s order.',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.messages),
    }),
    nodes: t.field({
      type: [ThreadMessageRef],
      description: 'The messages of this page, in the connection’s order (the edges without cursors).',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.messages),
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: 'Where this page sits: cursors of its ends and whether there is more.',
      resolve: (connection) => {
        const first = connection.messages[0];
        const last = connection.messages.at(-1);
        return {
          hasNextPage: connection.hasNextPage,
          hasPreviousPage: connection.hasPreviousPage,
          startCursor: first ? messageCursor(first.thread_id, first.id) : null,
          endCursor: last ? messageCursor(last.thread_id, last.id) : null,
        };
      },
    }),
  }),
});

builder.objectField(ThreadRef, 'messages', (t) =>
  t.field({
    type: ThreadMessageConnectionRef,
    description: `The thread’s messages, one page per upstream list call. Forward: \`first\` (default ${DEFAULT_PAGE_SIZE}) after the \`after\` cursor; backward: the \`last\` messages before the \`before\` cursor. Both in \`order\`. Over the Conversations API, items that are not messages are skipped and a short page reads on (more calls) to fill up.`,
    args: {
      first: t.arg.int({ description: `Page forward: at most this many messages, 1 to ${MAX_PAGE_SIZE}.` }),
      after: t.arg.string({ description: 'Page forward from the message with this cursor (not included).' }),
      last: t.arg.int({ description: `Page backward: at most this many messages, 1 to ${MAX_PAGE_SIZE}.` }),
      before: t.arg.string({ description: 'Page backward from the message with this cursor (not included).' }),
      order: t.arg({
        type: MessageOrderRef,
        defaultValue: 'desc',
        description: 'The order of the messages in the page (and of paging): DESC, newest first, by default.',
      }),
    },
    extensions: {
      cost: { upstreamCalls: 1, page: { fromArgs: ['first', 'last'], default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE } },
    },
    resolve: async (thread, args, ctx): Promise<Connection> => {
      const plan = planPage(
        {
          first: args.first,
          after: args.after,
          last: args.last,
          before: args.before,
          order: (args.order ?? 'desc') as MessageOrder,
        },
        thread.id,
      );
      if ('message' in plan) throw badUserInput(plan.message, plan.argument);
      const page = await ctx.loaders.messages.page(thread.id, plan.list);
      // The thread went away between its read and this list: it has no messages.
      if (!page) return { messages: [], hasNextPage: false, hasPreviousPage: false };
      // An empty page that claims more has no cursor to go on from: a client told "more" would ask
      // for the same page again, forever.
      const more = page.hasMore && page.data.length > 0;
      return plan.backward
        ? { messages: [...page.data].reverse(), hasNextPage: false, hasPreviousPage: more }
        : { messages: page.data, hasNextPage: more, hasPreviousPage: false };
    },
  }),
);
