import type { Thread, UpstreamApi, UpstreamMessage } from '../dist/upstream/upstream-api.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// The ceiling: our own gateway with the loader's upstream call replaced by an in-memory answer
// (no SDK, no HTTP). It measures what GraphQL serving alone costs on this machine.
const threads = new Map<string, Thread>(
  (JSON.parse(process.env.BENCH_THREADS ?? '[]') as Thread[]).map((thread) => [thread.id, thread]),
);
// The same 30 messages per thread the bench's upstream holds, made here (too many for an env variable).
const messages = new Map<string, UpstreamMessage[]>(
  [...threads.keys()].map((threadId) => [
    threadId,
    Array.from({ length: 30 }, (_, index) => ({
      id: `msg_ceiling${threadId.slice(-8)}${String(index).padStart(5, '0')}`,
      thread_id: threadId,
      created_at: 1_700_000_000,
      role: index % 2 ? 'assistant' : 'user',
      content: [{ type: 'text' as const, text: { value: `message ${index}`, annotations: [] } }],
      attachments: null,
      metadata: {},
      status: 'completed',
      assistant_id: null,
      run_id: null,
    })),
  ]),
);
let next = 0;
const unsupported = async (): Promise<never> => {
  throw new Error('the ceiling does not write messages');
};
const inMemory: UpstreamApi = {
  kind: 'threads',
  retrieveThread: async (_session, id) => threads.get(id) ?? null,
  createThread: async (_session, body) => {
    const thread = {
      id: `thread_ceiling${String(next++).padStart(17, '0')}`,
      object: 'thread',
      created_at: Math.floor(Date.now() / 1000),
      metadata: (body.metadata ?? {}) as Record<string, string>,
      tool_resources: null,
    } satisfies Thread;
    threads.set(thread.id, thread);
    return thread;
  },
  updateThread: async (_session, id, body) => {
    const thread = threads.get(id);
    if (!thread) throw new Error('missing');
    if (body.metadata !== undefined) thread.metadata = body.metadata ?? {};
    return thread;
  },
  deleteThread: async (_session, id) => ({ id, object: 'thread.deleted', deleted: threads.delete(id) as true }),
  listMessages: async (_session, threadId, params) => {
    if (!threads.has(threadId)) return null;
    const all = messages.get(threadId) ?? [];
    const ordered = params.order === 'asc' ? all : [...all].reverse();
    const start = params.after ? ordered.findIndex((message) => message.id === params.after) + 1 : 0;
    return { data: ordered.slice(start, start + params.limit), hasMore: start + params.limit < ordered.length };
  },
  retrieveMessage: async (_session, threadId, id) =>
    (messages.get(threadId) ?? []).find((message) => message.id === id) ?? null,
  createMessage: unsupported,
  updateMessage: unsupported,
  deleteMessage: unsupported,
};

serveGatewayForBench({ upstreamApi: inMemory });
