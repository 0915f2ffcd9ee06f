import type { ThreadDeleted } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { assertThreadId } from './thread-input.ts';

const DeletedThreadRef = builder.objectRef<ThreadDeleted>('DeletedThread').implement({
  description: 'The answer to deleteThread.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The id of the deleted thread.' }),
    deleted: t.exposeBoolean('deleted', { description: 'True when the thread is gone.' }),
  }),
});

builder.mutationField('deleteThread', (t) =>
  t.field({
    type: DeletedThreadRef,
    description: 'Deletes a thread. A missing thread is a `NOT_FOUND` error; later reads in the same request see null.',
    args: { id: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }) },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, { id }, ctx) => {
      const threadId = String(id);
      assertThreadId(threadId, 'id');
      const deleted = await ctx.upstream.deleteThread(threadId);
      ctx.loaders.thread.clear(threadId).prime(threadId, null);
      ctx.loaders.messages.forgetThread(threadId);
      if (deleted.deleted) await ctx.threadList.deleted(threadId);
      return deleted;
    },
  }),
);
