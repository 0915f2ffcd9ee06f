import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type MessageOrder } from '../domain/message-pagination.ts';
import { cursorRunId, type Run, runCursor } from '../domain/run.ts';
import { badUserInput } from '../errors.ts';
import { builder } from './builder.ts';
import { PageInfoRef } from './page-info.ts';
import { RunRef } from './run.ts';
import { ThreadRef } from './thread.ts';
import { MessageOrderRef } from './thread-message-connection.ts';

interface RunConnection {
  runs: Run[];
  hasNextPage: boolean;
}

const RunEdgeRef = builder.objectRef<Run>('RunEdge').implement({
  description: 'A run of a connection, with its cursor.',
  fields: (t) => ({
    cursor: t.string({
      description: 'An opaque cursor for this run, stable for it: pass it as `after`.',
      resolve: (run) => runCursor(run.threadId, run.id),
    }),
    node: t.field({ type: RunRef, description: 'The run.', resolve: (run) => run }),
  }),
});

const RunConnectionRef = builder.objectRef<RunConnection>('RunConnection').implement({
  description: 'One page of a thread’s runs (a Relay connection), forward only.',
  fields: (t) => ({
    edges: t.field({
      type: [RunEdgeRef],
      description: 'The runs of this page with their cursors, in the connection’s order.',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.runs),
    }),
    nodes: t.field({
      type: [RunRef],
      description: 'The runs of this page, in the connection’s order (the edges without cursors).',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.runs),
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: 'Where this page sits: cursors of its ends and whether more follow.',
      resolve: ({ runs, hasNextPage }) => {
        const first = runs[0];
        const last = runs.at(-1);
        return {
          hasNextPage,
          hasPreviousPage: false,
          startCursor: first ? runCursor(first.threadId, first.id) : null,
          endCursor: last ? runCursor(last.threadId, last.id) : null,
        };
      },
    }),
  }),
});

builder.objectField(ThreadRef, 'runs', (t) =>
  t.field({
    type: RunConnectionRef,
    extensions: {
      cost: { upstreamCalls: 1, page: { fromArgs: ['first'], default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE } },
    },
    description: `The thread’s runs, one page per upstream list call: \`first\` (default ${DEFAULT_PAGE_SIZE}) after the \`after\` cursor, in \`order\`. The runs are as the upstream reports them now.`,
    args: {
      first: t.arg.int({ description: `At most this many runs, 1 to ${MAX_PAGE_SIZE}.` }),
      after: t.arg.string({ description: 'Page forward from the run with this cursor (not included).' }),
      order: t.arg({
        type: MessageOrderRef,
        defaultValue: 'desc',
        description: 'The order of the runs, by creation: DESC, newest first, by default.',
      }),
    },
    resolve: async (thread, args, ctx): Promise<RunConnection> => {
      const limit = args.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw badUserInput(`first: must be from 1 to ${MAX_PAGE_SIZE}, got ${limit}`, 'first');
      }
      const params: { limit: number; order: MessageOrder; after?: string } = {
        limit,
        order: (args.order ?? 'desc') as MessageOrder,
      };
      if (args.after != null) {
        const after = cursorRunId(args.after, thread.id);
        if (after === undefined) throw badUserInput("after: not a cursor this thread's runs handed out", 'after');
        params.after = after;
      }
      const page = await ctx.loaders.runs.page(thread.id, params);
      if (!page) return { runs: [], hasNextPage: false };
      return { runs: page.data, hasNextPage: page.hasMore && page.data.length > 0 };
    },
  }),
);
