import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';

// `npm run soak`: concurrent mixed traffic against the gateway on the local backend, over HTTP.
// SOAK_SECONDS (60) and SOAK_CONCURRENCY (32) tune it. Errors must be 0.
const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);

// The default store, SQLite, as `npm start` runs it, in a directory removed at the end.
const dataDir = mkdtempSync(join(tmpdir(), 'soak-data-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const gateway = createGateway(loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir }));
const server = createServer(gateway.yoga);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (response.status !== 200 || body.errors)
    throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
  return body.data ?? {};
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const memory = () => ({ rssMb: mb(process.memoryUsage().rss), heapUsedMb: mb(process.memoryUsage().heapUsed) });
const start = memory();
const counts = { requests: 0, errors: 0 };
const firstErrors: string[] = [];
const live: string[] = [];
const deadline = Date.now() + seconds * 1000;

async function worker(index: number): Promise<void> {
  let step = index;
  while (Date.now() < deadline) {
    step++;
    try {
      const op = step % 10;
      if (op < 2 || live.length < 20) {
        const data = await gql('mutation($i: CreateThreadInput) { createThread(input: $i) { id } }', {
          i: { metadata: { worker: String(index) }, messages: [{ role: 'USER', content: `hello ${step}` }] },
        });
        live.push((data.createThread as { id: string }).id);
      } else if (op < 6) {
        await gql('query($id: ID!) { thread(id: $id) { id metadata } }', { id: live[step % live.length] });
      } else if (op < 8) {
        await gql('query($ids: [ID!]!) { threads(ids: $ids) { id } }', { ids: live.slice(0, 20) });
      } else if (op < 9) {
        await gql('mutation($id: ID!) { updateThread(id: $id, input: { metadata: { step: "1" } }) { id } }', {
          id: live[step % live.length],
        });
      } else {
        const id = live.pop();
        if (id) await gql('mutation($id: ID!) { deleteThread(id: $id) { deleted } }', { id });
      }
    } catch (error) {
      counts.errors++;
      if (firstErrors.length < 5) firstErrors.push(String(error));
    }
    counts.requests++;
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
global.gc?.();
const end = memory();
server.close();
await gateway.close();
const report = {
  seconds,
  concurrency,
  ...counts,
  requestsPerSecond: Math.round(counts.requests / seconds),
  start,
  end,
  firstErrors,
};
console.log(JSON.stringify(report, null, 2));
process.exit(counts.errors === 0 ? 0 : 1);
