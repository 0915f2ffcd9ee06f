import type { Thread } from 'openai/resources/beta/threads/threads';
import type { Run } from '../domain/run.ts';
import { ErrorCode, GatewayError } from '../errors.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { SubscriptionItem } from '../live/live.ts';
import type { UpstreamMessage } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { RunRef } from './run.ts';
import { runIdOf } from './run-input.ts';
import { ThreadRef } from './thread.ts';
import { assertThreadId } from './thread-input.ts';
import { ThreadMessageRef } from './thread-message.ts';

/** docs/live.md: the events subscriptions deliver, each object backed by its event. */
type Cursored = { cursor: string };
type StatusEvent = { type: 'RunStatusChanged'; run: Run } & Cursored;
type DeltaEvent = { type: 'MessageTextDelta'; messageId: string; index: number; text: string } & Cursored;
type CompletedEvent = { type: 'MessageCompleted'; message: UpstreamMessage } & Cursored;
type MessageEvent = { type: 'MessageCreated' | 'MessageUpdated'; message: UpstreamMessage };
type GoneEvent = { type: 'MessageDeleted' | 'ThreadDeleted'; id: string };
type ThreadUpdatedEvent = { type: 'ThreadUpdated'; thread: Thread };

const cursorField = { description: 'Where this event is in the run’s log: `runEvents(after:)` resumes after it.' };

const RunStatusChangedRef = builder.objectRef<StatusEvent>('RunStatusChanged').implement({
  description: 'The run moved to another status (the run as it was then).',
  fields: (t) => ({
    cursor: t.exposeString('cursor', cursorField),
    run: t.field({ type: RunRef, description: 'The run, as the upstream reported it then.', resolve: (e) => e.run }),
  }),
});

const MessageTextDeltaRef = builder.objectRef<DeltaEvent>('MessageTextDelta').implement({
  description:
    'Text the assistant wrote: append it to content part `index` of the message. A message’s deltas, joined in order, are its text in MessageCompleted.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', cursorField),
    messageId: t.exposeID('messageId', { description: 'The message being written (`msg_…`).' }),
    index: t.exposeInt('index', { description: 'The content part the text belongs to.' }),
    text: t.exposeString('text', { description: 'The text to append.' }),
  }),
});

const MessageCompletedRef = builder.objectRef<CompletedEvent>('MessageCompleted').implement({
  description: 'A message the run wrote, whole.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', cursorField),
    message: t.field({ type: ThreadMessageRef, description: 'The message.', resolve: (e) => e.message }),
  }),
});

const messageEvent = (name: 'MessageCreated' | 'MessageUpdated', description: string) =>
  builder.objectRef<MessageEvent>(name).implement({
    description,
    fields: (t) => ({
      message: t.field({ type: ThreadMessageRef, description: 'The message.', resolve: (e) => e.message }),
    }),
  });

const goneEvent = (name: 'MessageDeleted' | 'ThreadDeleted', description: string) =>
  builder.objectRef<GoneEvent>(name).implement({
    description,
    fields: (t) => ({ id: t.exposeID('id', { description: 'The id of what was deleted.' }) }),
  });

const ThreadUpdatedRef = builder.objectRef<ThreadUpdatedEvent>('ThreadUpdated').implement({
  description: 'The thread’s metadata or tool resources changed.',
  fields: (t) => ({
    thread: t.field({ type: ThreadRef, description: 'The thread after the change.', resolve: (e) => e.thread }),
  }),
});

const RunEventRef = builder.unionType('RunEvent', {
  description: 'What happens in a run, in order.',
  types: [RunStatusChangedRef, MessageTextDeltaRef, MessageCompletedRef],
  resolveType: (event) => event.type,
});

const ThreadEventRef = builder.unionType('ThreadEvent', {
  description: 'A change to a thread made through the gateway.',
  types: [
    messageEvent('MessageCreated', 'A message was added to the thread (by a caller, or by a run).'),
    messageEvent('MessageUpdated', 'A message’s metadata changed.'),
    goneEvent('MessageDeleted', 'A message was deleted.'),
    ThreadUpdatedRef,
    goneEvent('ThreadDeleted', 'The thread was deleted; the subscription ends.'),
    RunStatusChangedRef,
  ],
  resolveType: (event) => event.type,
});

/** Each item a subscription hands on: its event, or the coded error it ends with. */
function delivered<T>(item: SubscriptionItem): T {
  if (item.type === 'End') throw item.error;
  return item as T;
}

function subscriber(ctx: GatewayContext) {
  return { callerId: ctx.callerId, credential: ctx.upstream.session.credential, gone: ctx.signal };
}

builder.subscriptionType({ description: 'Live updates, over SSE or graphql-ws (docs/live.md).' });

builder.subscriptionFields((t) => ({
  runEvents: t.field({
    type: RunEventRef,
    description:
      'Every event of one run, oldest first: from the start, or after `after` (a cursor of an earlier event). Completes after the run reaches a final status or REQUIRES_ACTION (the last event says which). The run is read first (one upstream call; none when this instance is following the run with the caller’s credential, as right after createRun): NOT_FOUND when the caller cannot see it.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }),
      runId: t.arg.id({ required: true, description: 'The run id (`run_…`) or the Run’s global id.' }),
      after: t.arg.string({ description: 'Resume after this event’s cursor.' }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    subscribe: async (_root, args, ctx) => {
      const threadId = String(args.threadId);
      assertThreadId(threadId, 'threadId');
      const runId = runIdOf(threadId, args.runId, 'runId');
      // A run this instance is producing with the caller's credential (typically one it just
      // created for it) exists for the caller: no read. Any other is read first.
      if (!ctx.live.knownRun(subscriber(ctx), threadId, runId) && !(await ctx.loaders.runs.run(threadId, runId))) {
        throw new GatewayError(ErrorCode.NOT_FOUND, 'The run was not found.');
      }
      return ctx.live.runEvents(subscriber(ctx), threadId, runId, args.after ?? undefined);
    },
    resolve: (item: SubscriptionItem, _args, ctx) => {
      ctx.freshEvent();
      return delivered<StatusEvent | DeltaEvent | CompletedEvent>(item);
    },
  }),
  threadEvents: t.field({
    type: ThreadEventRef,
    description:
      'Changes to one thread made through the gateway, on any instance, while subscribed: messages created, updated and deleted, the thread updated or deleted (then the subscription completes), and its runs’ status changes. The thread is read first (one upstream call): NOT_FOUND when the caller cannot see it.',
    args: { threadId: t.arg.id({ required: true, description: 'The thread id (`thread_…`).' }) },
    extensions: { cost: { upstreamCalls: 1 } },
    subscribe: async (_root, args, ctx) => {
      const threadId = String(args.threadId);
      assertThreadId(threadId, 'threadId');
      if (!(await ctx.loaders.thread.load(threadId))) {
        throw new GatewayError(ErrorCode.NOT_FOUND, 'The thread was not found.');
      }
      return ctx.live.threadEvents(subscriber(ctx), threadId);
    },
    resolve: (item: SubscriptionItem, _args, ctx) => {
      ctx.freshEvent();
      return delivered<MessageEvent | GoneEvent | ThreadUpdatedEvent | StatusEvent>(item);
    },
  }),
}));
