import type { Thread, UpstreamApi, UpstreamMessage } from '../dist/upstream/upstream-api.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// The ceiling: our own gateway with the loader's upstream calls replaced by in-memory answers
// (no SDK, no HTTP). It measures what GraphQL serving alone costs on this machine. Any `thread_…`
// id reads as a thread holding 30 messages, like the bench upstream's, so it serves whatever ids the
// runner's upstream seeded. BENCH_DELAY_MS holds every answer that long: with it, the ceiling shows
// what the load generator can drive.
const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
const wait = () => (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve());
const written = new Map<string, Thread>();
const deleted = new Set<string>();
const read = (id: string): Thread | null => {
  if (deleted.has(id) || !id.startsWith('thread_')) return null;
  return (
    written.get(id) ?? { id, object: 'thread', created_at: 1_795_000_000, metadata: { n: '0' }, tool_resources: null }
  );
};
const messagesOf = (threadId: string): UpstreamMessage[] =>
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
  }));
let next = 0;
const unsupported = async (): Promise<never> => {
  throw new Error('the ceiling does not write messages');
};
const inMemory: UpstreamApi = {
  kind: 'threads',
  retrieveThread: async (_session, id) => {
    await wait();
    return read(id);
  },
  createThread: async (_session, body) => {
    await wait();
    const thread = {
      id: `thread_ceiling${String(next++).padStart(17, '0')}`,
      object: 'thread',
      created_at: Math.floor(Date.now() / 1000),
      metadata: (body.metadata ?? {}) as Record<string, string>,
      tool_resources: null,
    } satisfies Thread;
    written.set(thread.id, thread);
    return thread;
  },
  updateThread: async (_session, id, body) => {
    await wait();
    const thread = read(id);
    if (!thread) throw new Error('missing');
    const updated = { ...thread, metadata: (body.metadata ?? thread.metadata) as Record<string, string> };
    written.set(id, updated);
    return updated;
  },
  deleteThread: async (_session, id) => {
    await wait();
    written.delete(id);
    deleted.add(id);
    return { id, object: 'thread.deleted', deleted: true };
  },
  listMessages: async (_session, threadId, params) => {
    await wait();
    if (!read(threadId)) return null;
    const all = messagesOf(threadId);
    const ordered = params.order === 'asc' ? all : [...all].reverse();
    const start = params.after ? ordered.findIndex((message) => message.id === params.after) + 1 : 0;
    return { data: ordered.slice(start, start + params.limit), hasMore: start + params.limit < ordered.length };
  },
  retrieveMessage: async (_session, threadId, id) => {
    await wait();
    return messagesOf(threadId).find((message) => message.id === id) ?? null;
  },
  createMessage: unsupported,
  updateMessage: unsupported,
  deleteMessage: unsupported,
  createRun: unsupported,
  retrieveRun: unsupported,
  listRuns: unsupported,
  submitToolOutputs: unsupported,
  cancelRun: unsupported,
  retrieveAssistant: unsupported,
  listAssistants: unsupported,
  createAssistant: unsupported,
  updateAssistant: unsupported,
  deleteAssistant: unsupported,
};

serveGatewayForBench({ upstreamApi: inMemory });
