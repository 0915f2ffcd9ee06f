import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import autocannon from 'autocannon';

// `npm run bench`: our gateway, the usual Apollo Server + RESTDataSource build (baseline) and our
// gateway over in-memory data (ceiling), each in its own process, driven in turn by autocannon
// against one upstream process. Results go to bench/results/ and the README's Performance section.

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Started {
  child: ChildProcess;
  message: Record<string, unknown>;
}

function start(script: string, env: Record<string, string>): Promise<Started> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message: message as Record<string, unknown> }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface Thread {
  id: string;
}

const upstream = await start('bench/upstream.ts', {});
const upstreamUrl = String(upstream.message.url);
const threads = upstream.message.threads as Thread[];
const ids = threads.map((thread) => thread.id);
const answered = async () =>
  ((await (await fetch(upstreamUrl.replace(/\/v1$/, '/__bench/count'))).json()) as { answered: number }).answered;

const pick = () => ids[Math.floor(Math.random() * ids.length)];
const pickMany = (count: number) => [...ids].sort(() => Math.random() - 0.5).slice(0, count);
const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
const READ = 'query Read($id: ID!) { thread(id: $id) { id createdAt metadata } }';
const READ_MANY = 'query ReadMany($ids: [ID!]!) { threads(ids: $ids) { id createdAt metadata } }';
const READ_MESSAGES =
  'query ReadMessages($id: ID!) { thread(id: $id) { id messages(first: 20) { edges { cursor node { id role text createdAt } } pageInfo { hasNextPage endCursor } } } }';

type Counter = { errors: number };
type Scenario = { name: string; requests: (counter: Counter) => autocannon.Request[] };

function check(counter: Counter) {
  return (status: number, text: string) => {
    if (status !== 200 || text.includes('"errors"')) counter.errors++;
  };
}

const scenarios: Scenario[] = [
  {
    name: 'thread(id), uniform over 50',
    requests: (counter) => [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: body(READ, { id: pick() }) }),
        onResponse: check(counter),
      },
    ],
  },
  {
    name: 'thread(id), one hot id',
    requests: (counter) => [{ method: 'POST', body: body(READ, { id: ids[0] }), onResponse: check(counter) }],
  },
  {
    name: 'threads(ids:) with 20 ids',
    requests: (counter) => [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: body(READ_MANY, { ids: pickMany(20) }) }),
        onResponse: check(counter),
      },
    ],
  },
  {
    name: 'thread(id) { messages(first: 20) }, uniform over 50',
    requests: (counter) => [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: body(READ_MESSAGES, { id: pick() }) }),
        onResponse: check(counter),
      },
    ],
  },
  {
    name: 'mutations: create, update, delete',
    requests: (counter) => [
      {
        method: 'POST',
        body: body('mutation Create { createThread(input: { metadata: { bench: "1" } }) { id } }', {}),
        onResponse: (status, text, context) => {
          check(counter)(status, text);
          (context as { id?: string }).id = /"id":"([^"]+)"/.exec(text)?.[1];
        },
      },
      {
        method: 'POST',
        setupRequest: (request, context) => ({
          ...request,
          body: body(
            'mutation Update($id: ID!) { updateThread(id: $id, input: { metadata: { bench: "2" } }) { id } }',
            {
              id: (context as { id?: string }).id,
            },
          ),
        }),
        onResponse: check(counter),
      },
      {
        method: 'POST',
        setupRequest: (request, context) => ({
          ...request,
          body: body('mutation Delete($id: ID!) { deleteThread(id: $id) { deleted } }', {
            id: (context as { id?: string }).id,
          }),
        }),
        onResponse: check(counter),
      },
    ],
  },
];

function drive(url: string, requests: autocannon.Request[], seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests,
  });
}

interface Row {
  system: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  upstreamPerRequest: number | null;
  peakRssMb: number;
}

const systems: Array<{ name: string; script: string; env: Record<string, string>; countsUpstream: boolean }> = [
  {
    name: 'gateway',
    script: 'bench/gateway.ts',
    env: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstreamUrl },
    countsUpstream: true,
  },
  {
    name: 'baseline',
    script: 'bench/baseline-apollo.ts',
    env: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstreamUrl },
    countsUpstream: true,
  },
  {
    name: 'ceiling',
    script: 'bench/ceiling.ts',
    env: { BENCH_THREADS: JSON.stringify(threads) },
    countsUpstream: false,
  },
];

const rows: Row[] = [];
for (const system of systems) {
  const started = await start(system.script, system.env);
  const url = String(started.message.url);
  for (const scenario of scenarios) {
    await drive(url, scenario.requests({ errors: 0 }), WARMUP);
    const counter = { errors: 0 };
    const before = await answered();
    const result = await drive(url, scenario.requests(counter), SECONDS);
    const upstreamCalls = (await answered()) - before;
    const completed = result.requests.total;
    rows.push({
      system: system.name,
      scenario: scenario.name,
      rps: Math.round(completed / SECONDS),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: counter.errors + result.errors + result.timeouts + result.non2xx,
      upstreamPerRequest: system.countsUpstream ? Math.round((upstreamCalls / completed) * 100) / 100 : null,
      peakRssMb: 0,
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
  const peak = peakRssMb(started.child.pid);
  for (const row of rows) if (row.system === system.name) row.peakRssMb = peak;
  started.child.kill('SIGTERM');
}
upstream.child.kill('SIGTERM');

const find = (system: string, scenario: string) =>
  rows.find((row) => row.system === system && row.scenario === scenario);
const ratios = scenarios.map((scenario) => {
  const gateway = find('gateway', scenario.name);
  const baseline = find('baseline', scenario.name);
  const ceiling = find('ceiling', scenario.name);
  const ratio = (a?: number, b?: number) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  return {
    scenario: scenario.name,
    gatewayOverBaseline: ratio(gateway?.rps, baseline?.rps),
    gatewayOverCeiling: ratio(gateway?.rps, ceiling?.rps),
    p99GatewayOverBaseline: ratio(gateway?.p99, baseline?.p99),
  };
});

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const when = new Date().toISOString().slice(0, 10);
const report = { when, machine, seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, rows, ratios };
writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);

const table = [
  `Run ${when} on ${machine}; ${CONNECTIONS} connections, ${SECONDS} s per scenario after a ${WARMUP} s warm-up.`,
  '',
  '| scenario | system | req/s | p50 ms | p99 ms | errors | upstream calls / request | peak RSS MB |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...scenarios.flatMap((scenario) =>
    rows
      .filter((row) => row.scenario === scenario.name)
      .map(
        (row) =>
          `| ${row.scenario} | ${row.system} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.upstreamPerRequest ?? 'n/a'} | ${row.peakRssMb} |`,
      ),
  ),
  '',
  '| scenario | gateway / baseline (req/s) | gateway / ceiling (req/s) | p99 gateway / baseline |',
  '| --- | ---: | ---: | ---: |',
  ...ratios.map(
    (ratio) =>
      `| ${ratio.scenario} | ${ratio.gatewayOverBaseline ?? 'n/a'} | ${ratio.gatewayOverCeiling ?? 'n/a'} | ${ratio.p99GatewayOverBaseline ?? 'n/a'} |`,
  ),
].join('\n');
writeFileSync('bench/results/latest.md', `${table}\n`);

const readme = readFileSync('README.md', 'utf8');
const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
if (marked.test(readme)) {
  writeFileSync('README.md', readme.replace(marked, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`));
}
console.log(`\n${table}`);
process.exit(0);
