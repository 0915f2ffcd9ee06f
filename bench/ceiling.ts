import type { Thread, ThreadsApi } from '../dist/upstream/threads-upstream.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// The ceiling: our own gateway with the loader's upstream call replaced by an in-memory answer
// (no SDK, no HTTP). It measures what GraphQL serving alone costs on this machine. Any `thread_…`
// id reads as a thread, so it serves whatever ids the runner's upstream seeded. BENCH_DELAY_MS
// holds every answer that long: with it, the ceiling shows what the load generator can drive.
const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
const wait = () => (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve());
const created = new Map<string, Thread>();
const deleted = new Set<string>();
const read = (id: string): Thread | null => {
  if (deleted.has(id) || !id.startsWith('thread_')) return null;
  return (
    created.get(id) ?? { id, object: 'thread', created_at: 1_795_000_000, metadata: { n: '0' }, tool_resources: null }
  );
};
let next = 0;
const inMemory: ThreadsApi = {
  retrieve: async (_session, id) => {
    await wait();
    return read(id);
  },
  create: async (_session, body) => {
    await wait();
    const thread = {
      id: `thread_ceiling${String(next++).padStart(17, '0')}`,
      object: 'thread',
      created_at: Math.floor(Date.now() / 1000),
      metadata: (body.metadata ?? {}) as Record<string, string>,
      tool_resources: null,
    } satisfies Thread;
    created.set(thread.id, thread);
    return thread;
  },
  update: async (_session, id, body) => {
    await wait();
    const thread = read(id);
    if (!thread) throw new Error('missing');
    const updated = { ...thread, metadata: (body.metadata ?? thread.metadata) as Record<string, string> };
    created.set(id, updated);
    return updated;
  },
  delete: async (_session, id) => {
    await wait();
    created.delete(id);
    deleted.add(id);
    return { id, object: 'thread.deleted', deleted: true };
  },
};

serveGatewayForBench({ threadsApi: inMemory });
