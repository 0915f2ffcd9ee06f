import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/local-backend/store/sqlite-store.ts';
import { startThrowawayCluster, throwawayClusterUnavailable } from '../helpers/pg-cluster.ts';
import { createDatabase, dropDatabase, POSTGRES_URL, postgresReachable } from '../helpers/postgres.ts';
import { type Started, startProcess } from '../helpers/process.ts';
import { hasRedis, REDIS_URL, testPrefix } from '../helpers/redis.ts';
import { reportSkip } from '../helpers/skips.ts';

/**
 * "Nothing lost, proven", for storage: real gateway processes (`src/main.ts`) on the embedded
 * backend, stopped with SIGTERM or killed with SIGKILL, then started again on the same data; two
 * gateways sharing one PostgreSQL; a PostgreSQL that stops and starts during a run.
 */

// Real processes start here (tsx compiles on the fly): generous bounds for a loaded CI machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('gateways sharing PostgreSQL', `no PostgreSQL at ${POSTGRES_URL}`);
const noCluster = throwawayClusterUnavailable();
if (noCluster) reportSkip('PostgreSQL stopped during a run', `no throwaway cluster: ${noCluster}`);

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

const CREATE = `mutation Create($input: CreateThreadInput) { createThread(input: $input) { id metadata } }`;
const READ_MANY = `query Read($ids: [ID!]!) { threads(ids: $ids) { id metadata } }`;

function createInput(n: number) {
  return {
    metadata: { n: String(n) },
    messages: [
      { role: 'USER', content: `question ${n}` },
      { role: 'ASSISTANT', content: `answer ${n}` },
    ],
  };
}

async function createOne(url: string, n: number): Promise<string> {
  const answer = await gql(url, CREATE, { input: createInput(n) });
  const thread = answer.data?.createThread as { id: string } | undefined;
  if (!thread) throw new Error(`create failed: ${JSON.stringify(answer.errors)}`);
  return thread.id;
}

/** Every id reads back through the gateway, with the metadata it was created with. */
async function readBack(url: string, created: Map<string, number>): Promise<number> {
  const ids = [...created.keys()];
  let found = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const answer = await gql(url, READ_MANY, { ids: chunk });
    expect(answer.errors).toBeUndefined();
    const threads = answer.data?.threads as Array<{ id: string; metadata: { n: string } } | null>;
    for (const [index, thread] of threads.entries()) {
      const id = chunk[index] ?? '';
      expect(thread, `thread ${id}`).toEqual({ id, metadata: { n: String(created.get(id)) } });
      found++;
    }
  }
  return found;
}

/** Polls `check` for up to 10 s (the readiness answer is cached for 2 s). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

async function startGateway(env: Record<string, string>): Promise<{ process: Started; url: string }> {
  const started = startProcess('src/main.ts', { PORT: '0', LOG_LEVEL: 'info', ...env });
  const [, url] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 30_000);
  await started.waitFor(/upstream ready/, 30_000);
  return { process: started, url: url ?? '' };
}

describe('the embedded SQLite store across restarts and crashes', () => {
  let dir: string;
  let running: Started[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'durability-'));
  });
  afterEach(async () => {
    for (const started of running) started.child.kill('SIGKILL');
    await Promise.all(running.map((started) => started.exited));
    running = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('restart: 200 threads with messages made through the gateway all read back after SIGTERM and a new start', async () => {
    const dataDir = join(dir, 'data');
    const first = await startGateway({ DATA_DIR: dataDir });
    running.push(first.process);
    const created = new Map<string, number>();
    for (let batch = 0; batch < 200; batch += 20) {
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => createOne(first.url, batch + i)));
      for (const [i, id] of ids.entries()) created.set(id, batch + i);
    }
    expect(created.size).toBe(200);
    first.process.child.kill('SIGTERM');
    expect(await first.process.exited).toBe(0);

    const second = await startGateway({ DATA_DIR: dataDir });
    running.push(second.process);
    expect(await readBack(second.url, created)).toBe(200);
    second.process.child.kill('SIGTERM');
    expect(await second.process.exited).toBe(0);

    // The messages came through too, in order (read from the file the gateway left).
    const store = await openSqliteStore({ dataDir });
    try {
      for (const [id, n] of created) {
        const listed = await store.listMessages(id, { limit: 10, order: 'asc' });
        if (listed.kind !== 'ok') throw new Error(`${id}: ${listed.kind}`);
        expect(listed.data.map((message) => [message.role, message.content])).toEqual([
          ['user', [{ type: 'text', text: { value: `question ${n}`, annotations: [] } }]],
          ['assistant', [{ type: 'text', text: { value: `answer ${n}`, annotations: [] } }]],
        ]);
      }
    } finally {
      await store.close();
    }
  });

  it('crash: every create answered with an id before SIGKILL reads back after a restart', async () => {
    const dataDir = join(dir, 'data');
    const first = await startGateway({ DATA_DIR: dataDir });
    running.push(first.process);
    const acknowledged = new Map<string, number>();
    let next = 0;
    let killed = false;
    let failedInFlight = 0;
    const worker = async () => {
      while (!killed) {
        const n = next++;
        try {
          acknowledged.set(await createOne(first.url, n), n);
        } catch {
          // Requests cut by the kill have no answer: they promise nothing.
          failedInFlight++;
          return;
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    // Kill mid-stream, once a good number of creates were acknowledged.
    while (acknowledged.size < 300) await new Promise((resolve) => setTimeout(resolve, 20));
    first.process.child.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    await first.process.exited;
    console.log(`crash test: ${acknowledged.size} creates acknowledged before SIGKILL, ${failedInFlight} cut`);

    const second = await startGateway({ DATA_DIR: dataDir });
    running.push(second.process);
    expect(await readBack(second.url, acknowledged)).toBe(acknowledged.size);
  });
});

describe('npm run local-backend on SQLite across a restart', () => {
  let dir: string;
  let started: Started | undefined;
  afterEach(async () => {
    started?.child.kill('SIGKILL');
    await started?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an Idempotency-Key the same after a restart: the key is stored with the data', async () => {
    dir = mkdtempSync(join(tmpdir(), 'backend-restart-'));
    const env = { LOCAL_BACKEND_PORT: '0', DATA_DIR: dir };
    const post = async (url: string) => {
      const response = await fetch(`${url}/threads`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer sk-any',
          'openai-beta': 'assistants=v2',
          'content-type': 'application/json',
          'idempotency-key': 'order-42',
        },
        body: JSON.stringify({ metadata: { order: '42' } }),
      });
      return (await response.json()) as { id: string };
    };
    started = startProcess('src/local-backend/main.ts', env);
    const [, first] = await started.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+\/v1) \(sqlite store/);
    const created = await post(first ?? '');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);

    started = startProcess('src/local-backend/main.ts', env);
    const [, second] = await started.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+\/v1)/);
    expect((await post(second ?? '')).id).toBe(created.id);
  });
});

describe.skipIf(!hasPostgres)('two gateways sharing one PostgreSQL', () => {
  let database: { name: string; url: string };
  let running: Started[] = [];
  beforeEach(async () => {
    database = await createDatabase('gateways');
  });
  afterEach(async () => {
    for (const started of running) started.child.kill('SIGKILL');
    await Promise.all(running.map((started) => started.exited));
    running = [];
    await dropDatabase(database.name);
  });

  it('what one writes the other reads; one killed under load, the other serves on with zero errors', async () => {
    // Both start at once: the migrations run once, under PostgreSQL's advisory lock.
    const [a, b] = await Promise.all([
      startGateway({ DATABASE_URL: database.url }),
      startGateway({ DATABASE_URL: database.url }),
    ]);
    running.push(a.process, b.process);

    const fromA = new Map<string, number>();
    for (let n = 0; n < 20; n++) fromA.set(await createOne(a.url, n), n);
    expect(await readBack(b.url, fromA)).toBe(20);

    const acknowledged = new Map<string, number>(fromA);
    let next = 1000;
    let aKilled = false;
    let stop = false;
    const errorsOnB: string[] = [];
    const onA = async () => {
      while (!aKilled) {
        const n = next++;
        try {
          acknowledged.set(await createOne(a.url, n), n);
        } catch {
          return;
        }
      }
    };
    const onB = async () => {
      while (!stop) {
        const n = next++;
        try {
          const id = await createOne(b.url, n);
          acknowledged.set(id, n);
          const read = await gql(b.url, READ_MANY, { ids: [id] });
          if (read.errors || !read.data?.threads) errorsOnB.push(JSON.stringify(read.errors));
        } catch (error) {
          errorsOnB.push(String(error));
        }
      }
    };
    const load = [...Array.from({ length: 6 }, onA), ...Array.from({ length: 6 }, onB)];
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    a.process.child.kill('SIGKILL');
    aKilled = true;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    stop = true;
    await Promise.all(load);

    expect(errorsOnB).toEqual([]);
    console.log(`two instances: ${acknowledged.size} creates acknowledged across both, A killed under load`);
    expect(await readBack(b.url, acknowledged)).toBe(acknowledged.size);
  });
});

if (!hasRedis) reportSkip('two gateways on PostgreSQL and Redis', 'no Redis at 127.0.0.1:6379');

describe.skipIf(!hasPostgres || !hasRedis)('two gateways on one PostgreSQL and one Redis', () => {
  let database: { name: string; url: string };
  let keys: ReturnType<typeof testPrefix>;
  let running: Started[] = [];
  beforeEach(async () => {
    database = await createDatabase('gateways_redis');
    keys = testPrefix();
  });
  afterEach(async () => {
    for (const started of running) started.child.kill('SIGKILL');
    await Promise.all(running.map((started) => started.exited));
    running = [];
    await dropDatabase(database.name);
    await keys.cleanup();
  });

  it('50 concurrent creates with one idempotency key, spread over both, make one thread', async () => {
    const env = { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: keys.prefix };
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    running.push(a.process, b.process);
    const input = { ...createInput(7), idempotencyKey: 'order-7' };
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) => gql(index % 2 === 0 ? a.url : b.url, CREATE, { input })),
    );
    const ids = new Set(answers.map((answer) => (answer.data?.createThread as { id: string } | undefined)?.id));
    expect(answers.filter((answer) => answer.errors)).toEqual([]);
    expect(ids.size).toBe(1);
    // One thread in the shared database: counted there, not through either gateway.
    const { Client } = await import('pg');
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM threads');
      expect(Number(rows[0]?.n)).toBe(1);
    } finally {
      await client.end();
    }
  });
});

describe.skipIf(noCluster !== undefined)('PostgreSQL stopped during a run', () => {
  it('answers coded errors and no 5xx while it is down, and recovers by itself', async () => {
    const cluster = await startThrowawayCluster();
    let gateway: { process: Started; url: string } | undefined;
    try {
      gateway = await startGateway({ DATABASE_URL: cluster.url, UPSTREAM_MAX_RETRIES: '0' });
      const { url } = gateway;
      const before = await createOne(url, 1);

      cluster.stop();
      const codes = new Set<string>();
      for (let i = 0; i < 5; i++) {
        for (const answer of [
          await gql(url, CREATE, { input: createInput(2) }),
          await gql(url, READ_MANY, { ids: [before] }),
        ]) {
          expect(answer.status).toBeLessThan(500);
          for (const error of answer.errors ?? []) codes.add(error.extensions?.code ?? 'NO CODE');
        }
      }
      // Every failed field carries an upstream code (which one is the gateway's mapping of a 503).
      expect(codes.size).toBeGreaterThan(0);
      for (const code of codes) expect(['UPSTREAM_ERROR', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT']).toContain(code);
      const ready = url.replace(/\/graphql$/, '/ready');
      expect(await eventually(async () => (await fetch(ready)).status === 503)).toBe(true);

      cluster.start();
      // No restart of the gateway: the next requests reconnect.
      const deadline = Date.now() + 15_000;
      let after: string | undefined;
      while (!after && Date.now() < deadline) {
        after = await createOne(url, 3).catch(() => undefined);
        if (!after) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(after).toBeDefined();
      expect(await eventually(async () => (await fetch(ready)).status === 200)).toBe(true);
      expect(
        await readBack(
          url,
          new Map([
            [before, 1],
            [after ?? '', 3],
          ]),
        ),
      ).toBe(2);
    } finally {
      gateway?.process.child.kill('SIGKILL');
      await gateway?.process.exited;
      cluster.destroy();
    }
  });
});
