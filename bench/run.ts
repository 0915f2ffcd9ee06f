import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { drive, type Measured, machineTicks, median, procStatusMb, round2, start, type Target } from './measure.ts';
import { type Row, ratios, type Shapes, slowRowsOf, tables, targetsOf } from './report.ts';
import {
  BARE,
  BASELINE,
  CEILING,
  DIRECT,
  type Fixture,
  fastScenarios,
  GATEWAY,
  type Scenario,
  slowUniform,
} from './scenarios.ts';

// `npm run bench`: our gateway, the usual Apollo Server + RESTDataSource build (baseline) and our
// gateway over in-memory data (ceiling), each in its own process, driven in one run, side by side:
// every scenario runs ROUNDS times with the systems in rotated order, and the table shows the
// median round. Two phases:
//   fast:  an upstream that answers at once, 32 connections (what the gateway itself costs);
//   where users are: an upstream that answers after 500 ms, 1,000 connections, 10,000 ids.
// "bare reads" (bench/bare-reads.ts) is the gateway with its thread reads sent without the SDK, the
// bound on what a lean read path could buy; "direct" is the load generator straight at the upstream
// (no gateway at all). The scenarios and who serves them: bench/scenarios.ts; measuring one round:
// bench/measure.ts; the tables and targets: bench/report.ts. Results go to bench/results/ and
// docs/performance.md (between its bench markers).

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const shapes: Shapes = {
  fast: {
    seconds: env('BENCH_SECONDS', 4),
    warmup: env('BENCH_WARMUP_SECONDS', 1),
    rounds: env('BENCH_ROUNDS', 3),
    connections: env('BENCH_CONNECTIONS', 32),
  },
  slow: {
    seconds: env('BENCH_SLOW_SECONDS', 12),
    warmup: env('BENCH_SLOW_WARMUP_SECONDS', 5),
    rounds: env('BENCH_SLOW_ROUNDS', 3),
    connections: env('BENCH_SLOW_CONNECTIONS', 1000),
    delayMs: env('BENCH_SLOW_DELAY_MS', 500),
    ids: env('BENCH_SLOW_IDS', 10_000),
  },
};
const ONLY = process.env.BENCH_ONLY; // "fast" or "slow" to run one phase
// Substrings, comma-separated: run only the fast scenarios whose name has one of them.
const SCENARIOS = process.env.BENCH_SCENARIOS;
const API_KEY = 'sk-bench';
/** Threads for the run row: a run reads its whole thread, so each takes only a few runs. */
const RUN_THREADS = 5_000;

const SYSTEM_SCRIPTS: Record<string, string> = {
  [GATEWAY]: 'bench/gateway.ts',
  [BASELINE]: 'bench/baseline-apollo.ts',
  [CEILING]: 'bench/ceiling.ts',
  [BARE]: 'bench/bare-reads.ts',
};

/** The upstream of a phase, with the threads it seeded and an assistant whose model is `echo`. */
async function startUpstream(upstreamEnv: Record<string, string>) {
  const upstream = await start('bench/upstream.ts', upstreamEnv);
  const upstreamUrl = String(upstream.message.url);
  const client = new OpenAI({ apiKey: API_KEY, baseURL: upstreamUrl });
  const assistant = await client.beta.assistants.create({ model: 'echo', name: 'bench' });
  const fixture: Fixture = {
    ids: (upstream.message.threads as Array<{ id: string }>).map((thread) => thread.id),
    runThreads: (upstream.message.runThreads as string[] | undefined) ?? [],
    assistantId: assistant.id,
    upstreamUrl,
    apiKey: API_KEY,
  };
  const upstreamStats = async () =>
    (await (await fetch(upstreamUrl.replace(/\/v1$/, '/__bench/stats'))).json()) as {
      answered: number;
      p50: number;
      p99: number;
    };
  return { upstream, fixture, upstreamStats };
}

/** Every system the scenarios ask for, each in its own process with a fresh DATA_DIR; `direct` is the upstream itself. */
async function startSystems(
  names: string[],
  fixture: Fixture,
  upstream: { child: ChildProcess },
  upstreamStats: Target['upstreamStats'],
  ceilingEnv: Record<string, string>,
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  const systemEnv = { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: fixture.upstreamUrl };
  const targets = new Map<string, Target>();
  const children: ChildProcess[] = [];
  for (const name of names) {
    if (name === DIRECT) {
      targets.set(name, {
        name,
        url: fixture.upstreamUrl,
        pid: upstream.child.pid,
        heapAfterGc: async () => null,
        ...(upstreamStats ? { upstreamStats } : {}),
      });
      continue;
    }
    const script = SYSTEM_SCRIPTS[name] as string;
    const started = await start(script, {
      DATA_DIR: join(dataDir, name),
      ...(name === CEILING ? ceilingEnv : systemEnv),
    });
    const child = started.child;
    children.push(child);
    targets.set(name, {
      name,
      url: String(started.message.url),
      pid: child.pid,
      heapAfterGc: () =>
        new Promise<number>((resolve) => {
          child.once('message', (message) => resolve(Number((message as { heapMb?: number }).heapMb ?? 0)));
          child.send('heap');
        }),
      ...(name !== CEILING && upstreamStats ? { upstreamStats } : {}),
    });
  }
  return { targets, children, dispose: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** The round with the median throughput stands for the system; the others show the spread. */
function medianRow(name: Row['phase'], system: string, scenario: string, runs: Measured[]): Row {
  const middle = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor((runs.length - 1) / 2)] as Measured;
  return {
    ...middle,
    phase: name,
    system,
    scenario,
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    rssStartMb: runs[0]?.rssStartMb ?? 0,
    rssEndMb: runs.at(-1)?.rssEndMb ?? 0,
    listenOverflows: runs.reduce((sum, run) => sum + run.listenOverflows, 0),
    rounds: runs.map((run) => run.rps),
    heapRoundsMb: runs.map((run) => run.heapAfterGcMb),
    peakRssMb: 0,
  };
}

async function phase(
  name: Row['phase'],
  scenarios: Scenario[],
  shape: Shapes['fast'],
  upstreamEnv: Record<string, string>,
  ceilingEnv: Record<string, string>,
): Promise<Row[]> {
  const { upstream, fixture, upstreamStats } = await startUpstream(upstreamEnv);
  const names = [GATEWAY, BASELINE, CEILING, BARE, DIRECT].filter((system) =>
    scenarios.some((scenario) => scenario.systems.includes(system)),
  );
  const systems = await startSystems(names, fixture, upstream, upstreamStats, ceilingEnv);
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const serving = names.flatMap((system) =>
      scenario.systems.includes(system) ? [systems.targets.get(system) as Target] : [],
    );
    for (const target of serving) await scenario.prepare?.(target, fixture);
    const byTarget = new Map<string, Measured[]>();
    for (let round = 0; round < shape.rounds; round++) {
      const order = serving.map((_, index) => serving[(index + round) % serving.length] as Target);
      for (const target of order) {
        const counter = { errors: 0 };
        const measured = await drive(target, scenario.load(target, counter, fixture), counter, shape);
        console.log(JSON.stringify({ phase: name, scenario: scenario.name, system: target.name, round, ...measured }));
        byTarget.set(target.name, [...(byTarget.get(target.name) ?? []), measured]);
      }
    }
    for (const target of serving)
      rows.push(medianRow(name, target.name, scenario.name, byTarget.get(target.name) ?? []));
  }
  for (const target of systems.targets.values()) {
    const peak = procStatusMb(target.pid, 'VmHWM');
    for (const row of rows) if (row.system === target.name) row.peakRssMb = peak;
  }
  for (const child of [...systems.children, upstream.child]) child.kill('SIGTERM');
  systems.dispose();
  return rows;
}

const startedAt = Date.now();
const ticksBefore = machineTicks();
const loadBefore = loadavg()[0] ?? 0;
const rows: Row[] = [];
if (ONLY !== 'slow') {
  const wanted = SCENARIOS?.split(',').map((part) => part.trim());
  const chosen = fastScenarios.filter((scenario) => !wanted || wanted.some((part) => scenario.name.includes(part)));
  rows.push(...(await phase('fast', chosen, shapes.fast, { BENCH_RUN_THREADS: String(RUN_THREADS) }, {})));
}
const loadMiddle = loadavg()[0] ?? 0;
if (ONLY !== 'fast') {
  const { delayMs, ids } = shapes.slow;
  rows.push(
    ...(await phase(
      'slow',
      [slowUniform],
      shapes.slow,
      { BENCH_DELAY_MS: String(delayMs), BENCH_SEED_THREADS: String(ids), BENCH_SEED_MESSAGES: '0' },
      { BENCH_DELAY_MS: String(delayMs) },
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

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const report = {
  when,
  machine,
  wallSeconds,
  noise,
  fast: shapes.fast,
  slow: { ...shapes.slow, ideal: shapes.slow.connections / (shapes.slow.delayMs / 1000) },
  rows,
  fastRatios: ratios(rows).fast,
  slowRows: slowRowsOf(rows, shapes),
  targets: targetsOf(rows, shapes),
};
writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);
const header = `Measured ${when} UTC on ${machine}, ${wallSeconds} s in all. Machine noise during the run: load average ${noise.loadAverage.join(' → ')}, CPU busy ${Math.round(noise.machineBusyShare * 100)} % of both cores (all processes), steal ${Math.round(noise.stealShare * 100)} %.`;
const table = tables(rows, shapes, header);
writeFileSync('bench/results/latest.md', `${table}\n`);
// A full run also keeps a dated copy (2026-12-02-0602.md).
if (!ONLY && !SCENARIOS) writeFileSync(`bench/results/${when.replace(' ', '-').replace(':', '')}.md`, `${table}\n`);

const page = readFileSync('docs/performance.md', 'utf8');
const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
if (marked.test(page) && !ONLY && !SCENARIOS) {
  writeFileSync('docs/performance.md', page.replace(marked, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`));
}
console.log(`\n${table}`);
process.exit(0);
