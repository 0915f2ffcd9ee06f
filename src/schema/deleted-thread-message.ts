import { builder } from './builder.ts';
import { assertThreadId } from './thread-input.ts';

const DeletedThreadMessageRef = builder.objectRef<{ id: string; deleted: boolean }>('DeletedThreadMessage').implement({
  description: 'The answer to deleteMessage.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The id of the deleted message.' }),
    deleted: t.exposeBoolean('deleted', { description: 'True when the message is gone.' }),
  }),
});

builder.mutationField('deleteMessage', (t) =>
  t.field({
    type: DeletedThreadMessageRef,
    description:
      'Deletes a message. A missing message or thread is `NOT_FOUND`; later reads in the same request see it gone.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      id: t.arg.id({ required: true, description: 'The message id (`msg_…`).' }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const threadId = String(args.threadId);
      const id = String(args.id);
      assertThreadId(threadId, 'threadId');
      assertThreadId(id, 'id');
      try {
        const deleted = await ctx.upstream.deleteMessage(threadId, id);
        ctx.loaders.messages.forgetThread(threadId);
        ctx.loaders.messages.primeWritten(threadId, id, null);
        return deleted;
      } catch (error) {
        ctx.loaders.messages.forgetThread(threadId);
        throw error;
      }
    },
  }),
);
