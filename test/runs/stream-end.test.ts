import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { CreateRunDocument, GetRunDocument } from '../helpers/documents.ts';
import { execute, testGateway } from '../helpers/gateway.ts';

/**
 * A streamed run that ended leaves its connection to the Threads server reusable: the gateway reads
 * the stream's end (`done`, then the end of the body) instead of cutting it, and cuts it only when
 * the end does not come within about a second.
 */
let gateway: Gateway | undefined;
let server: Server | undefined;
afterEach(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  [gateway, server] = [undefined, undefined];
});

const run = (id: string, status: string) => ({
  id,
  object: 'thread.run',
  created_at: 1_700_000_000,
  thread_id: 'thread_s',
  assistant_id: 'asst_s',
  status,
  model: 'echo',
  instructions: '',
  tools: [],
  metadata: {},
});

/**
 * A Threads server whose runs complete at once; the stream's end (`done` and the body's end) comes
 * `endAfterMs` later, or never. Counts connections, and times when each stream's socket closed.
 */
async function startRunServer(endAfterMs: number | 'never') {
  const seen = { connections: 0, runs: 0, completedAt: [] as number[], closedAt: [] as number[] };
  server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/runs')) {
      const id = `run_${++seen.runs}`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: thread.run.created\ndata: ${JSON.stringify(run(id, 'queued'))}\n\n`);
      res.write(`event: thread.run.completed\ndata: ${JSON.stringify(run(id, 'completed'))}\n\n`);
      seen.completedAt.push(performance.now());
      req.socket.once('close', () => seen.closedAt.push(performance.now()));
      if (endAfterMs !== 'never') setTimeout(() => res.end('event: done\ndata: [DONE]\n\n'), endAfterMs);
      return;
    }
    // A run read answers it completed; any other read (the gateway's probe) is a thread.
    const id = /\/runs\/([^/?]+)/.exec(req.url ?? '')?.[1];
    const thread = { id: 'thread_s', object: 'thread', created_at: 1_700_000_000, metadata: {}, tool_resources: {} };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(id ? run(id, 'completed') : thread));
  });
  server.on('connection', () => seen.connections++);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: url, UPSTREAM_API: 'threads' });
  return { gateway, seen };
}

async function createRun(gateway: Gateway): Promise<string> {
  const created = await execute(gateway, CreateRunDocument, { threadId: 'thread_s', input: { model: 'echo' } });
  expect(created.errors).toBeUndefined();
  return created.data?.createRun.runId ?? '';
}

const until = async (done: () => boolean) => {
  for (let wait = 0; !done() && wait < 100; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
};

it('runs one after another reuse the upstream connections: a stream whose run ended is read to its end', async () => {
  const { gateway, seen } = await startRunServer(100);
  await createRun(gateway);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = seen.connections;
  for (let index = 0; index < 8; index++) {
    const id = await createRun(gateway);
    expect((await execute(gateway, GetRunDocument, { threadId: 'thread_s', id })).data?.run?.status).toBe('COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Cut streams would cost a connection each (8); streams read to their end leave theirs open.
  expect(seen.connections - before).toBeLessThanOrEqual(3);
  expect(seen.closedAt).toEqual([]);
});

it('a server that keeps a finished run’s stream open has it cut within about a second', async () => {
  const { gateway, seen } = await startRunServer('never');
  const id = await createRun(gateway);
  await until(() => seen.closedAt.length > 0);
  const held = (seen.closedAt[0] ?? Number.NaN) - (seen.completedAt[0] ?? 0);
  expect(held).toBeGreaterThan(800);
  expect(held).toBeLessThan(2500);
  expect((await execute(gateway, GetRunDocument, { threadId: 'thread_s', id })).data?.run?.status).toBe('COMPLETED');
});
