import { parseRunGlobalId } from '../domain/run.ts';
import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { badUserInput, toError } from '../errors.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { builder } from './builder.ts';
import { assertThreadId, loadThreads } from './thread-input.ts';

/**
 * Relay's Node interface. Thread ids (`thread_…`) and assistant ids (`asst_…`) are globally unique
 * already, so they serve as global ids unchanged. A run id alone does not say which thread to read
 * the run from, so a Run's global id names both (`Run.id`; its `runId` is the upstream's id).
 */
export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object with a globally unique id (Relay Global Object Identification).',
  resolveType: (value) => {
    const object = (value as { object?: unknown }).object;
    if (object === 'thread.run') return 'Run';
    if (object === 'assistant') return 'Assistant';
    return 'Thread';
  },
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'The globally unique id: a thread’s or an assistant’s own id, a Run’s global id.',
    }),
  }),
});

/** Assistant ids as the Threads API spells them; every other id that is not a run's is a thread's. */
const ASSISTANT_ID = /^asst_[A-Za-z0-9_-]{1,123}$/;

function loadNode(ctx: GatewayContext, id: string, argument: string): Promise<{ id: string } | null> {
  const run = parseRunGlobalId(id);
  if (run) return ctx.loaders.runs.run(run.threadId, run.runId);
  assertThreadId(id, argument);
  if (ASSISTANT_ID.test(id)) return ctx.loaders.runs.assistant(id);
  return ctx.loaders.thread.load(id);
}

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    nullable: true,
    description:
      'The object with this global id, or null. Thread and assistant ids are global ids; a Run’s is its `id`.',
    args: { id: t.arg.id({ required: true, description: 'A global id.' }) },
    extensions: { cost: { batched: { loader: 'thread', keyArgs: ['id'] }, loads: 'Thread' } },
    resolve: (_root, { id }, ctx) => loadNode(ctx, String(id), 'id'),
  }),
  nodes: t.field({
    type: [NodeRef],
    nullable: { list: false, items: true },
    description: `The objects with these global ids, in order; null for a missing id. At most ${MAX_IDS_PER_FIELD} ids.`,
    args: { ids: t.arg.idList({ required: true, description: `Global ids, at most ${MAX_IDS_PER_FIELD}.` }) },
    extensions: {
      cost: { batched: { loader: 'thread', idsArg: 'ids' }, listSize: { idsArg: 'ids' }, loads: 'Thread' },
    },
    resolve: (_root, { ids }, ctx) => {
      const wanted = ids.map(String);
      // Threads only, the usual case: one batched load, as before runs and assistants were nodes.
      if (wanted.every((id) => !parseRunGlobalId(id) && !ASSISTANT_ID.test(id))) return loadThreads(ctx, wanted);
      if (wanted.length > MAX_IDS_PER_FIELD) {
        throw badUserInput(`ids: at most ${MAX_IDS_PER_FIELD} ids per call, got ${wanted.length}`, 'ids');
      }
      // Checked before any load, so one bad id refuses the field with nothing sent.
      for (const [index, id] of wanted.entries()) if (!parseRunGlobalId(id)) assertThreadId(id, `ids[${index}]`);
      // An entry that failed upstream is an Error: graphql-js makes it null plus its own error.
      return Promise.all(
        wanted.map((id, index) => loadNode(ctx, id, `ids[${index}]`).catch((error: unknown) => toError(error))),
      ) as Promise<Array<{ id: string } | null>>;
    },
  }),
}));
