import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

// `npm run bench`: our gateway, the usual Apollo Server + RESTDataSource build (baseline) and our
// gateway over in-memory data (ceiling), each in its own process, driven by autocannon in one run,
// side by side: every scenario runs ROUNDS times with the systems in rotated order, and the table
// shows the median round. Two phases:
//   fast:  an upstream that answers at once, 32 connections (what the gateway itself costs);
//   where users are: an upstream that answers after 500 ms, 1,000 connections, 10,000 ids.
// A fourth system, "bare reads" (bench/bare-reads.ts), runs the uniform thread(id) rows only: the
// gateway with its thread reads sent without the SDK, the bound on what a lean read path could buy.
// Latency is timed per response (not autocannon's whole-millisecond histogram), after a warm-up
// inside the same run, so connections are opened once. Errors are counted in response bodies.
// Results go to bench/results/ and docs/performance.md (between its bench markers).

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const FAST = {
  seconds: env('BENCH_SECONDS', 4),
  warmup: env('BENCH_WARMUP_SECONDS', 1),
  rounds: env('BENCH_ROUNDS', 3),
  connections: env('BENCH_CONNECTIONS', 32),
};
const SLOW = {
  seconds: env('BENCH_SLOW_SECONDS', 12),
  warmup: env('BENCH_SLOW_WARMUP_SECONDS', 5),
  rounds: env('BENCH_SLOW_ROUNDS', 3),
  connections: env('BENCH_SLOW_CONNECTIONS', 1000),
  delayMs: env('BENCH_SLOW_DELAY_MS', 500),
  ids: env('BENCH_SLOW_IDS', 10_000),
};
const BARE = 'bare reads';
const ONLY = process.env.BENCH_ONLY; // "fast" or "slow" to run one phase
const SCENARIOS = process.env.BENCH_SCENARIOS; // a substring: run only the fast scenarios whose name has it

interface Started {
  child: ChildProcess;
  message: Record<string, unknown>;
}

function start(script: string, env: Record<string, string>): Promise<Started> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      ...(process.env.BENCH_BACKLOG ? { BENCH_BACKLOG: process.env.BENCH_BACKLOG } : {}),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message: message as Record<string, unknown> }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Busy and stolen CPU time of the whole machine, from /proc/stat (clock ticks). */
function machineTicks(): { busy: number; steal: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return {
    busy: user + nice + system + irq + softirq,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/** TCP listen-queue overflows on this machine so far (SYNs or accepts dropped: a backlog too small). */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? 0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
const READ = 'query Read($id: ID!) { thread(id: $id) { id createdAt metadata } }';
const READ_MANY = 'query ReadMany($ids: [ID!]!) { threads(ids: $ids) { id createdAt metadata } }';
const READ_MESSAGES =
  'query ReadMessages($id: ID!) { thread(id: $id) { id messages(first: 20) { edges { cursor node { id role text createdAt } } pageInfo { hasNextPage endCursor } } } }';

type Counter = { errors: number };
interface Scenario {
  name: string;
  requests: (counter: Counter, ids: string[]) => autocannon.Request[];
}

function check(counter: Counter) {
  return (status: number, text: string) => {
    if (status !== 200 || text.includes('"errors"')) counter.errors++;
  };
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)];

const uniform: Scenario = {
  name: 'thread(id), uniform',
  requests: (counter, ids) => [
    {
      method: 'POST',
      setupRequest: (request) => ({ ...request, body: body(READ, { id: pick(ids) }) }),
      onResponse: check(counter),
    },
  ],
};

const fastScenarios: Scenario[] = [
  uniform,
  {
    name: 'thread(id), one hot id',
    requests: (counter, ids) => [{ method: 'POST', body: body(READ, { id: ids[0] }), onResponse: check(counter) }],
  },
  {
    name: 'threads(ids:) with 20 ids',
    requests: (counter, ids) => [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          body: body(READ_MANY, { ids: [...ids].sort(() => Math.random() - 0.5).slice(0, 20) }),
        }),
        onResponse: check(counter),
      },
    ],
  },
  {
    name: 'thread(id) { messages(first: 20) }',
    requests: (counter, ids) => [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: body(READ_MESSAGES, { id: pick(ids) }) }),
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
            { id: (context as { id?: string }).id },
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

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  upstreamPerRequest: number | null;
  upstreamP50: number | null;
  upstreamP99: number | null;
  rssStartMb: number;
  rssEndMb: number;
  /** Heap in use after a full GC, asked of the system once the round is over. */
  heapAfterGcMb: number;
  /** CPU the load generator (this process) used, in cores, during the window. */
  generatorCores: number;
  listenOverflows: number;
}

interface Target {
  name: string;
  url: string;
  pid: number | undefined;
  heapAfterGc: () => Promise<number>;
  /** The scenarios this system serves (all when absent). */
  scenarios?: string[];
  /** The upstream whose calls this system makes (none for the ceiling). */
  upstreamStats?: () => Promise<{ answered: number; p50: number; p99: number }>;
}

async function drive(
  target: Target,
  scenario: Scenario,
  ids: string[],
  shape: { seconds: number; warmup: number; connections: number },
): Promise<Measured> {
  const counter = { errors: 0 };
  const latencies: number[] = [];
  const rss: number[] = [];
  let measuring = false;
  let cpuAtStart = process.cpuUsage();
  // Counted from before the connections open: the connect burst is what overflows a backlog.
  const overflowsAtStart = listenOverflows();
  let upstreamAtStart = 0;
  const instance = autocannon({
    url: target.url,
    connections: shape.connections,
    duration: shape.warmup + shape.seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: scenario.requests(counter, ids),
  });
  // The promise autocannon returns is also its event emitter: each response comes with its time.
  (instance as unknown as NodeJS.EventEmitter).on(
    'response',
    (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (measuring) latencies.push(ms);
    },
  );
  const warmedUp = setTimeout(async () => {
    measuring = true;
    cpuAtStart = process.cpuUsage();
    rss.push(procStatusMb(target.pid, 'VmRSS'));
    upstreamAtStart = (await target.upstreamStats?.())?.answered ?? 0;
  }, shape.warmup * 1000);
  const sampler = setInterval(() => {
    if (measuring) rss.push(procStatusMb(target.pid, 'VmRSS'));
  }, 1000);
  const result = await instance;
  clearTimeout(warmedUp);
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuAtStart);
  rss.push(procStatusMb(target.pid, 'VmRSS'));
  const upstream = await target.upstreamStats?.();
  // Requests still in flight when the load stopped finish first, so the heap holds none of them.
  await new Promise((resolve) => setTimeout(resolve, shape.connections >= 100 ? 1000 : 0));
  const heapAfterGcMb = await target.heapAfterGc();
  const sorted = latencies.sort((a, b) => a - b);
  const completed = sorted.length;
  return {
    rps: Math.round(completed / shape.seconds),
    p50: round2(percentile(sorted, 50)),
    p99: round2(percentile(sorted, 99)),
    errors: counter.errors + result.errors + result.timeouts + result.non2xx,
    upstreamPerRequest: upstream ? round2((upstream.answered - upstreamAtStart) / completed) : null,
    upstreamP50: upstream ? round2(upstream.p50) : null,
    upstreamP99: upstream ? round2(upstream.p99) : null,
    rssStartMb: rss[0] ?? 0,
    rssEndMb: rss.at(-1) ?? 0,
    heapAfterGcMb,
    generatorCores: round2((cpu.user + cpu.system) / 1e6 / shape.seconds),
    listenOverflows: listenOverflows() - overflowsAtStart,
  };
}

interface Row extends Measured {
  phase: 'fast' | 'slow';
  system: string;
  scenario: string;
  rounds: number[];
  heapRoundsMb: number[];
  peakRssMb: number;
}

async function phase(
  name: Row['phase'],
  scenarios: Scenario[],
  shape: { seconds: number; warmup: number; connections: number; rounds: number },
  upstreamEnv: Record<string, string>,
  ceilingEnv: Record<string, string>,
): Promise<Row[]> {
  const upstream = await start('bench/upstream.ts', upstreamEnv);
  const upstreamUrl = String(upstream.message.url);
  const ids = (upstream.message.threads as Array<{ id: string }>).map((thread) => thread.id);
  const upstreamStats = async () =>
    (await (await fetch(upstreamUrl.replace(/\/v1$/, '/__bench/stats'))).json()) as {
      answered: number;
      p50: number;
      p99: number;
    };
  // Each system keeps its own store (the gateway's thread list, gateway.db) in a fresh DATA_DIR.
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  const systemEnv = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstreamUrl };
  const specs: Array<{
    name: string;
    script: string;
    env: Record<string, string>;
    counts: boolean;
    scenarios?: string[];
  }> = [
    { name: 'gateway', script: 'bench/gateway.ts', env: systemEnv, counts: true },
    { name: 'baseline', script: 'bench/baseline-apollo.ts', env: systemEnv, counts: true },
    { name: 'ceiling', script: 'bench/ceiling.ts', env: ceilingEnv, counts: false },
    {
      name: BARE,
      script: 'bench/bare-reads.ts',
      env: systemEnv,
      counts: true,
      scenarios: [uniform.name],
    },
  ];
  const targets: Target[] = [];
  const children: ChildProcess[] = [];
  for (const spec of specs) {
    const started = await start(spec.script, { DATA_DIR: join(dataDir, spec.name), ...spec.env });
    children.push(started.child);
    const child = started.child;
    targets.push({
      name: spec.name,
      url: String(started.message.url),
      pid: child.pid,
      ...(spec.scenarios ? { scenarios: spec.scenarios } : {}),
      heapAfterGc: () =>
        new Promise<number>((resolve) => {
          child.once('message', (message) => resolve(Number((message as { heapMb?: number }).heapMb ?? 0)));
          child.send('heap');
        }),
      ...(spec.counts ? { upstreamStats } : {}),
    });
  }
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const byTarget = new Map<string, Measured[]>();
    const serving = targets.filter((target) => !target.scenarios || target.scenarios.includes(scenario.name));
    for (let round = 0; round < shape.rounds; round++) {
      const order = serving.map((_, index) => serving[(index + round) % serving.length] as Target);
      for (const target of order) {
        const measured = await drive(target, scenario, ids, shape);
        console.log(JSON.stringify({ phase: name, scenario: scenario.name, system: target.name, round, ...measured }));
        byTarget.set(target.name, [...(byTarget.get(target.name) ?? []), measured]);
      }
    }
    for (const target of serving) {
      const runs = byTarget.get(target.name) ?? [];
      // The round with the median throughput stands for the system; the others show the spread.
      const middle = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor((runs.length - 1) / 2)] as Measured;
      rows.push({
        ...middle,
        phase: name,
        system: target.name,
        scenario: scenario.name,
        p50: median(runs.map((run) => run.p50)),
        p99: median(runs.map((run) => run.p99)),
        errors: runs.reduce((sum, run) => sum + run.errors, 0),
        rssStartMb: runs[0]?.rssStartMb ?? 0,
        rssEndMb: runs.at(-1)?.rssEndMb ?? 0,
        listenOverflows: runs.reduce((sum, run) => sum + run.listenOverflows, 0),
        rounds: runs.map((run) => run.rps),
        heapRoundsMb: runs.map((run) => run.heapAfterGcMb),
        peakRssMb: 0,
      });
    }
  }
  for (const target of targets) {
    const peak = procStatusMb(target.pid, 'VmHWM');
    for (const row of rows) if (row.system === target.name) row.peakRssMb = peak;
  }
  for (const child of [...children, upstream.child]) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  return rows;
}

const startedAt = Date.now();
const ticksBefore = machineTicks();
const loadBefore = loadavg()[0] ?? 0;
const rows: Row[] = [];
if (ONLY !== 'slow') {
  const chosen = fastScenarios.filter((scenario) => !SCENARIOS || scenario.name.includes(SCENARIOS));
  rows.push(...(await phase('fast', chosen, FAST, {}, {})));
}
const loadMiddle = loadavg()[0] ?? 0;
if (ONLY !== 'fast') {
  rows.push(
    ...(await phase(
      'slow',
      [uniform],
      SLOW,
      { BENCH_DELAY_MS: String(SLOW.delayMs), BENCH_SEED_THREADS: String(SLOW.ids), BENCH_SEED_MESSAGES: '0' },
      { BENCH_DELAY_MS: String(SLOW.delayMs) },
    )),
  );
}
const ticksAfter = machineTicks();
const wallSeconds = Math.round((Date.now() - startedAt) / 1000);
const totalTicks = ticksAfter.total - ticksBefore.total;
const noise = {
  loadAverage: [round2(loadBefore), round2(loadMiddle), round2(loadavg()[0] ?? 0)],
  machineBusyShare: round2((ticksAfter.busy - ticksBefore.busy) / totalTicks),
  stealShare: round2((ticksAfter.steal - ticksBefore.steal) / totalTicks),
};

const find = (phaseName: Row['phase'], system: string, scenario: string) =>
  rows.find((row) => row.phase === phaseName && row.system === system && row.scenario === scenario);
const ratio = (a?: number, b?: number) => (a && b ? round2(a / b) : null);
const fastRatios = fastScenarios
  .filter((scenario) => find('fast', 'gateway', scenario.name))
  .map((scenario) => {
    const gateway = find('fast', 'gateway', scenario.name);
    const baseline = find('fast', 'baseline', scenario.name);
    const ceiling = find('fast', 'ceiling', scenario.name);
    const bare = find('fast', BARE, scenario.name);
    return {
      scenario: scenario.name,
      gatewayOverBaseline: ratio(gateway?.rps, baseline?.rps),
      gatewayOverCeiling: ratio(gateway?.rps, ceiling?.rps),
      p99GatewayOverBaseline: ratio(gateway?.p99, baseline?.p99),
      bareOverCeiling: ratio(bare?.rps, ceiling?.rps),
      gatewayOverBare: ratio(gateway?.rps, bare?.rps),
    };
  });
const ideal = SLOW.connections / (SLOW.delayMs / 1000);
const slowRows = rows
  .filter((row) => row.phase === 'slow')
  .map((row) => ({
    system: row.system,
    rps: row.rps,
    shareOfIdeal: round2(row.rps / ideal),
    addedP50: row.upstreamP50 === null ? round1(row.p50 - SLOW.delayMs) : round1(row.p50 - row.upstreamP50),
    addedP99: row.upstreamP99 === null ? round1(row.p99 - SLOW.delayMs) : round1(row.p99 - row.upstreamP99),
    row,
  }));

/** The performance targets, each with what this run measured and whether it holds. */
const targets: Array<{ target: string; measured: string; met: boolean | null }> = [];
const fastRatio = (scenario: string) => fastRatios.find((entry) => entry.scenario === scenario);
const uniformRatio = fastRatio(uniform.name);
if (uniformRatio) {
  targets.push({
    target: '`thread(id)`, uniform: ≥ 0.8× the ceiling',
    measured: `${uniformRatio.gatewayOverCeiling}×`,
    met: (uniformRatio.gatewayOverCeiling ?? 0) >= 0.8,
  });
  targets.push({
    target: '`thread(id)`, uniform: ≥ 2× the baseline',
    measured: `${uniformRatio.gatewayOverBaseline}×`,
    met: (uniformRatio.gatewayOverBaseline ?? 0) >= 2,
  });
}
for (const [scenario, label, wanted] of [
  ['threads(ids:) with 20 ids', '`threads(ids:)` with 20 ids: ≥ 5× the baseline', 5],
  ['thread(id) { messages(first: 20) }', '`thread(id) { messages(first: 20) }`: ≥ 2× the baseline', 2],
  ['mutations: create, update, delete', 'mutations: ≥ 1.2× the baseline', 1.2],
] as const) {
  const entry = fastRatio(scenario);
  if (entry)
    targets.push({
      target: label,
      measured: `${entry.gatewayOverBaseline}×`,
      met: (entry.gatewayOverBaseline ?? 0) >= wanted,
    });
}
if (fastRatios.length > 0) {
  const worst = Math.max(...fastRatios.map((entry) => entry.p99GatewayOverBaseline ?? 0));
  targets.push({
    target: 'p99 no worse than the baseline in every row',
    measured: `worst gateway / baseline ${worst}`,
    met: worst <= 1,
  });
}
const slowGateway = slowRows.find((entry) => entry.system === 'gateway');
const slowBaseline = slowRows.find((entry) => entry.system === 'baseline');
if (slowGateway) {
  const heaps = slowGateway.row.heapRoundsMb;
  const heapGrowth = (heaps.at(-1) ?? 0) - (heaps[0] ?? 0);
  targets.push(
    {
      target: 'where users are: adds ≤ 2 ms at p50',
      measured: `${slowGateway.addedP50} ms`,
      met: slowGateway.addedP50 <= 2,
    },
    {
      target: 'where users are: adds ≤ 10 ms at p99',
      measured: `${slowGateway.addedP99} ms`,
      met: slowGateway.addedP99 <= 10,
    },
    {
      target: 'where users are: ≥ 90 % of the ideal, and more than the baseline',
      measured: `${Math.round(slowGateway.shareOfIdeal * 100)} % (baseline ${Math.round((slowBaseline?.shareOfIdeal ?? 0) * 100)} %)`,
      met: slowGateway.shareOfIdeal >= 0.9 && slowGateway.rps > (slowBaseline?.rps ?? 0),
    },
    {
      target: 'where users are: memory flat over the run',
      measured: `heap after GC ${heaps.join(' → ')} MB at the end of each ${SLOW.seconds} s round (RSS ${slowGateway.row.rssStartMb} → ${slowGateway.row.rssEndMb} MB)`,
      met: heapGrowth <= Math.max(5, (heaps[0] ?? 0) * 0.1),
    },
  );
}
const gatewayErrors = rows.filter((row) => row.system === 'gateway').reduce((sum, row) => sum + row.errors, 0);
const allErrors = rows.reduce((sum, row) => sum + row.errors, 0);
targets.push({
  target: 'zero errors everywhere (counted in bodies)',
  measured: `gateway ${gatewayErrors}, all systems ${allErrors}`,
  met: allErrors === 0,
});

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const report = {
  when,
  machine,
  wallSeconds,
  noise,
  fast: FAST,
  slow: { ...SLOW, ideal },
  rows,
  fastRatios,
  slowRows,
  targets,
};
writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);

const fastTable = [
  `**Fast upstream** (answers at once, 50 threads): ${FAST.connections} connections, ${FAST.rounds} rounds of ${FAST.seconds} s after a ${FAST.warmup} s warm-up, systems in rotated order; median round shown, every round's req/s in brackets.`,
  '',
  '| scenario | system | req/s (rounds) | p50 ms | p99 ms | errors | upstream calls / request | peak RSS MB |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows
    .filter((row) => row.phase === 'fast')
    .map(
      (row) =>
        `| ${row.scenario} | ${row.system} | ${row.rps} (${row.rounds.join(', ')}) | ${row.p50} | ${row.p99} | ${row.errors} | ${row.upstreamPerRequest ?? 'n/a'} | ${row.peakRssMb} |`,
    ),
  '',
  '| scenario | gateway / baseline (req/s) | gateway / ceiling (req/s) | p99 gateway / baseline | bare reads / ceiling | gateway / bare reads |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...fastRatios.map(
    (entry) =>
      `| ${entry.scenario} | ${entry.gatewayOverBaseline ?? 'n/a'} | ${entry.gatewayOverCeiling ?? 'n/a'} | ${entry.p99GatewayOverBaseline ?? 'n/a'} | ${entry.bareOverCeiling ?? 'n/a'} | ${entry.gatewayOverBare ?? 'n/a'} |`,
  ),
];
const slowTable = [
  `**Where users are** (upstream answers after ${SLOW.delayMs} ms, uniform \`thread(id)\` over ${SLOW.ids} ids): ${SLOW.connections} connections, so the ideal is ${ideal} req/s; ${SLOW.rounds} rounds of ${SLOW.seconds} s after a ${SLOW.warmup} s warm-up. Added latency is the client's percentile minus the upstream's own, each timed on its side (the ceiling's "upstream" is its in-memory ${SLOW.delayMs} ms wait).`,
  '',
  '| system | req/s (rounds) | share of ideal | p50 ms | p99 ms | upstream p50 / p99 ms | added p50 ms | added p99 ms | errors | upstream calls / request | RSS MB start → end (peak) | heap after GC, each round MB | listen overflows | generator CPU (cores) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...slowRows.map(
    ({ system, shareOfIdeal, addedP50, addedP99, row }) =>
      `| ${system} | ${row.rps} (${row.rounds.join(', ')}) | ${shareOfIdeal} | ${row.p50} | ${row.p99} | ${row.upstreamP50 ?? SLOW.delayMs} / ${row.upstreamP99 ?? SLOW.delayMs} | ${addedP50} | ${addedP99} | ${row.errors} | ${row.upstreamPerRequest ?? 'n/a'} | ${row.rssStartMb} → ${row.rssEndMb} (${row.peakRssMb}) | ${row.heapRoundsMb.join(' → ')} | ${row.listenOverflows} | ${row.generatorCores} |`,
  ),
];
const targetTable = [
  '| target | this run | met |',
  '| --- | ---: | :---: |',
  ...targets.map((entry) => `| ${entry.target} | ${entry.measured} | ${entry.met ? 'yes' : '**no**'} |`),
];
const table = [
  `Measured ${when} UTC on ${machine}, ${wallSeconds} s in all. Machine noise during the run: load average ${noise.loadAverage.join(' → ')}, CPU busy ${Math.round(noise.machineBusyShare * 100)} % of both cores (all processes), steal ${Math.round(noise.stealShare * 100)} %.`,
  '',
  ...(rows.some((row) => row.phase === 'fast') ? [...fastTable, ''] : []),
  ...(slowRows.length > 0 ? [...slowTable, ''] : []),
  ...targetTable,
].join('\n');
writeFileSync('bench/results/latest.md', `${table}\n`);

const page = readFileSync('docs/performance.md', 'utf8');
const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
if (marked.test(page) && !ONLY) {
  writeFileSync('docs/performance.md', page.replace(marked, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`));
}
console.log(`\n${table}`);
process.exit(0);
