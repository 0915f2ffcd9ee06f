import type { Thread, ThreadsApi } from '../dist/upstream/threads-upstream.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// The ceiling: our own gateway with the loader's upstream call replaced by an in-memory answer
// (no SDK, no HTTP). It measures what GraphQL serving alone costs on this machine.
const threads = new Map<string, Thread>(
  (JSON.parse(process.env.BENCH_THREADS ?? '[]') as Thread[]).map((thread) => [thread.id, thread]),
);
let next = 0;
const inMemory: ThreadsApi = {
  retrieve: async (_session, id) => threads.get(id) ?? null,
  create: async (_session, body) => {
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
  update: async (_session, id, body) => {
    const thread = threads.get(id);
    if (!thread) throw new Error('missing');
    if (body.metadata !== undefined) thread.metadata = body.metadata ?? {};
    return thread;
  },
  delete: async (_session, id) => ({ id, object: 'thread.deleted', deleted: threads.delete(id) as true }),
};

serveGatewayForBench({ threadsApi: inMemory });
