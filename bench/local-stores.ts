import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

// `npm run bench:stores`: `thread(id)` through the gateway on its embedded local backend, per store
// (SQLite in a fresh DATA_DIR, the default; PostgreSQL in a fresh database; memory for reference),
// each gateway in its own process, with its peak RSS. Kept apart from bench/run.ts (the remote-
// upstream comparison); results go to bench/results/local-stores.{json,md}.
// PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); the row is
// left out, saying so, when it cannot connect.

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const READ = 'query Read($id: ID!) { thread(id: $id) { id createdAt metadata } }';

function start(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = fork('bench/local-gateway.ts', [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, url: String((message as { url: string }).url) }));
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
  });
}

function peakRssMb(pid: number | undefined): number {
  const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function seed(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation($m: JSON) { createThread(input: { metadata: $m, messages: [{ role: USER, content: "hi" }] }) { id } }',
        variables: { m: { n: String(n) } },
      }),
    });
    const body = (await response.json()) as { data?: { createThread: { id: string } } };
    if (!body.data) throw new Error(`seeding failed: ${JSON.stringify(body)}`);
    ids.push(body.data.createThread.id);
  }
  return ids;
}

async function drive(url: string, ids: string[], seconds: number, counter: { errors: number }) {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ query: READ, variables: { id: ids[Math.floor(Math.random() * ids.length)] } }),
        }),
        onResponse: (status, text) => {
          if (status !== 200 || text.includes('"errors"')) counter.errors++;
        },
      },
    ],
  });
}

async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const name = `bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
    await admin.query(`create database "${name}"`);
  } catch (error) {
    console.warn(`SKIPPED: the PostgreSQL row (${ADMIN_URL}: ${error instanceof Error ? error.message : error})`);
    await admin.end().catch(() => undefined);
    return undefined;
  }
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

interface Row {
  store: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  peakRssMb: number;
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
const postgres = await postgresDatabase();
const systems: Array<{ store: string; env: Record<string, string> }> = [
  { store: 'sqlite (embedded default)', env: { DATA_DIR: dataDir } },
  ...(postgres ? [{ store: 'postgresql', env: { DATABASE_URL: postgres.url } }] : []),
  { store: 'memory (reference)', env: { LOCAL_BACKEND_STORE: 'memory' } },
];

const rows: Row[] = [];
try {
  for (const system of systems) {
    const started = await start(system.env);
    const ids = await seed(started.url, 50);
    await drive(started.url, ids, WARMUP, { errors: 0 });
    const counter = { errors: 0 };
    const result = await drive(started.url, ids, SECONDS, counter);
    rows.push({
      store: system.store,
      rps: Math.round(result.requests.total / SECONDS),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: counter.errors + result.errors + result.timeouts + result.non2xx,
      peakRssMb: peakRssMb(started.child.pid),
    });
    console.log(JSON.stringify(rows.at(-1)));
    started.child.kill('SIGTERM');
    await new Promise((resolve) => started.child.once('exit', resolve));
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await postgres?.drop();
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const when = new Date().toISOString().slice(0, 10);
writeFileSync(
  'bench/results/local-stores.json',
  `${JSON.stringify({ when, machine, seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, rows }, null, 2)}\n`,
);
const table = [
  `Measured ${when} on ${machine}; thread(id) uniform over 50 threads, ${CONNECTIONS} connections, ${SECONDS} s after a ${WARMUP} s warm-up.`,
  '',
  '| scenario | local backend store | req/s | p50 ms | p99 ms | errors | peak RSS MB |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (row) =>
      `| thread(id), embedded backend | ${row.store} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.peakRssMb} |`,
  ),
].join('\n');
writeFileSync('bench/results/local-stores.md', `${table}\n`);
// docs/storage.md shows the latest table between its markers.
const page = readFileSync('docs/storage.md', 'utf8');
const marked = /<!-- bench-stores:start -->[\s\S]*<!-- bench-stores:end -->/;
if (marked.test(page)) {
  writeFileSync(
    'docs/storage.md',
    page.replace(marked, `<!-- bench-stores:start -->\n${table}\n<!-- bench-stores:end -->`),
  );
}
console.log(`\n${table}`);
process.exit(0);
