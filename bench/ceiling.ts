import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import type { Thread, ThreadsApi } from '../dist/upstream/threads-upstream.js';

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

const gateway = createGateway(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }), {
  threadsApi: inMemory,
});
const server = createServer(gateway.yoga);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}/graphql` });
});
process.once('SIGINT', () => process.exit(0));
