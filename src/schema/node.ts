import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { builder } from './builder.ts';
import { loadThread, loadThreads } from './thread-input.ts';

/**
 * Relay's Node interface. Thread ids are globally unique already (`thread_…`), so they serve as
 * global ids unchanged: `node(id: "thread_…")` is `thread(id: "thread_…")`.
 */
export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object with a globally unique id (Relay Global Object Identification).',
  resolveType: () => 'Thread',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The globally unique id; for a Thread, its thread id.' }),
  }),
});

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    nullable: true,
    description: 'The object with this global id, or null. Thread ids are global ids.',
    args: { id: t.arg.id({ required: true, description: 'A global id (a thread id).' }) },
    extensions: { cost: { batched: { loader: 'thread', keyArgs: ['id'] }, loads: 'Thread' } },
    resolve: (_root, { id }, ctx) => loadThread(ctx, id),
  }),
  nodes: t.field({
    type: [NodeRef],
    nullable: { list: false, items: true },
    description: `The objects with these global ids, in order; null for a missing id. At most ${MAX_IDS_PER_FIELD} ids.`,
    args: { ids: t.arg.idList({ required: true, description: `Global ids, at most ${MAX_IDS_PER_FIELD}.` }) },
    extensions: {
      cost: { batched: { loader: 'thread', idsArg: 'ids' }, listSize: { idsArg: 'ids' }, loads: 'Thread' },
    },
    resolve: (_root, { ids }, ctx) => loadThreads(ctx, ids),
  }),
}));
