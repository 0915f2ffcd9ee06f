import { checkMetadata, MESSAGE_CONTENT_MAX_PARTS } from '../domain/thread-rules.ts';
import { badUserInput, ErrorCode, GatewayError } from '../errors.ts';
import type { UpstreamMessage } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { MessageContentRef } from './message-content.ts';
import { ThreadRef } from './thread.ts';
import { assertThreadId, IDEMPOTENCY_KEY_PATTERN } from './thread-input.ts';
import { refuse, roleOf, ThreadMessageInput, ThreadMessageRole, toNewMessage } from './thread-message-input.ts';

/**
 * The joined text of each message object. The loaders answer every repeat of a page with the same
 * objects (aliases, a connection under each message of a page), so every repeat of a message's
 * text is one string, not a new copy of up to 256,000 characters built per alias.
 */
const joinedTexts = new WeakMap<UpstreamMessage, string>();

export const ThreadMessageRef = builder.objectRef<UpstreamMessage>('ThreadMessage').implement({
  description: 'A message of a thread (the Threads API’s `thread.message`).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The message id (`msg_…`).' }),
    threadId: t.exposeID('thread_id', { description: 'The id of the thread the message belongs to.' }),
    thread: t.field({
      type: ThreadRef,
      nullable: true,
      description:
        'The thread the message belongs to, through the request’s thread loader (many messages of one thread cost one read); null when it no longer exists.',
      // Under its own thread (a page of `thread { messages }`) the loader has the thread already.
      extensions: { cost: { upstreamCalls: 1, loads: 'Thread', unlessLoaded: 'Thread' } },
      resolve: (message, _args, ctx) => ctx.loaders.thread.load(message.thread_id),
    }),
    createdAt: t.int({
      nullable: true,
      description:
        'When the message was created, in Unix seconds (the API’s `created_at`); null only where an upstream keeps none (always, over the Conversations API).',
      resolve: (message) => message.created_at,
    }),
    role: t.field({
      type: ThreadMessageRole,
      description: 'Who wrote the message; UNKNOWN for a role the gateway does not know.',
      resolve: (message) => roleOf(message.role),
    }),
    content: t.field({
      type: [MessageContentRef],
      description:
        'The content parts, in order. Parts of a type the gateway does not know are skipped (left out of this list), never an error.',
      extensions: { cost: { listSize: MESSAGE_CONTENT_MAX_PARTS } },
      resolve: (message) => message.content,
    }),
    text: t.string({
      description: 'The text parts’ values joined with "\\n"; "" when there are none.',
      resolve: (message) => {
        let text = joinedTexts.get(message);
        if (text === undefined) {
          text = message.content.flatMap((part) => (part.type === 'text' ? [part.text.value] : [])).join('\n');
          joinedTexts.set(message, text);
        }
        return text;
      },
    }),
    attachments: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'Files attached for tools, as the API has them (snake_case inside); null when none (always, over the Conversations API).',
      resolve: (message) => (message.attachments && message.attachments.length > 0 ? message.attachments : null),
    }),
    metadata: t.field({
      type: 'JSON',
      description:
        'Up to 16 string key/value pairs attached to the message; `{}` when it has none (always, over the Conversations API).',
      resolve: (message) => message.metadata,
    }),
    status: t.string({
      nullable: true,
      description: 'The API’s status: `in_progress`, `incomplete` or `completed`; null where an upstream keeps none.',
      resolve: (message) => message.status,
    }),
    assistantId: t.string({
      nullable: true,
      description: 'The assistant that wrote the message, when one did (always null over the Conversations API).',
      resolve: (message) => message.assistant_id,
    }),
    runId: t.string({
      nullable: true,
      description: 'The run that wrote the message, when one did (always null over the Conversations API).',
      resolve: (message) => message.run_id,
    }),
  }),
});

function assertIds(threadId: string, id?: string): void {
  assertThreadId(threadId, 'threadId');
  if (id !== undefined) assertThreadId(id, 'id');
}

builder.queryField('message', (t) =>
  t.field({
    type: ThreadMessageRef,
    nullable: true,
    description: 'The message with this id in this thread, or null when there is none (or no such thread).',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      id: t.arg.id({ required: true, description: 'The message id (`msg_…`).' }),
    },
    extensions: {
      cost: {
        batched: { loader: 'message', keyArgs: ['threadId', 'id'] },
        // Its thread is the one threadId names: one more distinct thread id, not a read per use.
        namesByArg: { entity: 'Thread', loader: 'thread', arg: 'threadId' },
      },
    },
    resolve: (_root, args, ctx) => {
      const threadId = String(args.threadId);
      const id = String(args.id);
      assertIds(threadId, id);
      return ctx.loaders.messages.message(threadId, id);
    },
  }),
);

builder.mutationFields((t) => ({
  createMessage: t.field({
    type: ThreadMessageRef,
    description:
      'Adds a message to a thread. It is never sent upstream twice by the gateway; when the outcome is unknown the error says `extensions.outcome: "unknown"`, and a retry with the same `idempotencyKey` is safe. A missing thread is `NOT_FOUND`.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      input: t.arg({ type: ThreadMessageInput, required: true, description: 'The message.' }),
      idempotencyKey: t.arg.string({
        description:
          'Makes the create safe to retry: the same key from the same caller within 24 hours returns the message first created for it instead of creating another; the same key with a different input is IDEMPOTENCY_CONFLICT. 1 to 255 printable ASCII characters.',
      }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const threadId = String(args.threadId);
      assertIds(threadId);
      const body = toNewMessage(args.input, 'input');
      const key = args.idempotencyKey;
      if (key != null && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
        throw badUserInput(
          'idempotencyKey: must be 1 to 255 printable ASCII characters without spaces',
          'idempotencyKey',
        );
      }
      let message: UpstreamMessage;
      try {
        message =
          key != null
            ? await ctx.idempotentCreates.run(ctx.callerId, key, { createMessage: threadId, ...body }, (upstreamKey) =>
                ctx.upstream.createMessage(threadId, body, upstreamKey),
              )
            : await ctx.upstream.createMessage(threadId, body);
      } catch (error) {
        if (error instanceof GatewayError && error.code === ErrorCode.IDEMPOTENCY_CONFLICT) {
          throw new GatewayError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            'idempotencyKey was already used with a different input; use a new key for a new message.',
            { extensions: { argument: 'idempotencyKey' } },
          );
        }
        throw error;
      } finally {
        ctx.loaders.messages.forgetThread(threadId);
      }
      ctx.loaders.messages.primeWritten(threadId, message.id, message);
      return message;
    },
  }),
  updateMessage: t.field({
    type: ThreadMessageRef,
    description:
      'Replaces a message’s metadata (up to 16 string pairs). A missing message or thread is `NOT_FOUND`. Refused (UNSUPPORTED_BY_UPSTREAM) over the Conversations API, whose items cannot change.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      id: t.arg.id({ required: true, description: 'The message id (`msg_…`).' }),
      metadata: t.arg({
        type: 'JSON',
        required: true,
        description: 'The new metadata, replacing the old: up to 16 string pairs (keys ≤ 64, values ≤ 512 characters).',
      }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const threadId = String(args.threadId);
      const id = String(args.id);
      assertIds(threadId, id);
      refuse(checkMetadata(args.metadata, 'metadata'));
      try {
        const message = await ctx.upstream.updateMessage(threadId, id, args.metadata as Record<string, string>);
        ctx.loaders.messages.forgetThread(threadId);
        ctx.loaders.messages.primeWritten(threadId, id, message);
        return message;
      } catch (error) {
        ctx.loaders.messages.forgetThread(threadId);
        throw error;
      }
    },
  }),
}));
