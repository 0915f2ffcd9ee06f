import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { Counter, Load } from './scenarios.ts';

// How `npm run bench` starts systems and measures one round of load on one of them: autocannon for
// request scenarios, N concurrent loops for flows (a unit of work made of several calls). Latency is
// timed per response or per unit (not autocannon's whole-millisecond histogram), after a warm-up
// inside the same round, so connections open once. Errors are counted in response bodies.

export interface Started {
  child: ChildProcess;
  message: Record<string, unknown>;
}

export function start(script: string, env: Record<string, string>): Promise<Started> {
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

export function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Busy and stolen CPU time of the whole machine, from /proc/stat (clock ticks). */
export function machineTicks(): { busy: number; steal: number; total: number } {
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

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};
export const round1 = (value: number) => Math.round(value * 10) / 10;
export const round2 = (value: number) => Math.round(value * 100) / 100;

export interface Measured {
  /** Requests (or units of a flow: a run to completion) per second. */
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  upstreamPerRequest: number | null;
  upstreamP50: number | null;
  upstreamP99: number | null;
  rssStartMb: number;
  rssEndMb: number;
  /** Heap in use after a full GC, asked of the system once the round is over (null: not a process of ours). */
  heapAfterGcMb: number | null;
  /** CPU the load generator (this process) used, in cores, during the window. */
  generatorCores: number;
  listenOverflows: number;
}

export interface Target {
  name: string;
  url: string;
  pid: number | undefined;
  heapAfterGc: () => Promise<number | null>;
  /** The upstream whose calls this system makes (none for the ceiling). */
  upstreamStats?: () => Promise<{ answered: number; p50: number; p99: number }>;
}

export interface Shape {
  seconds: number;
  warmup: number;
  connections: number;
}

/** Runs `load` against `target` for the warm-up and then the measured window; one round. */
export async function drive(target: Target, load: Load, counter: Counter, shape: Shape): Promise<Measured> {
  const latencies: number[] = [];
  const rss: number[] = [];
  let measuring = false;
  let cpuAtStart = process.cpuUsage();
  // Counted from before the connections open: the connect burst is what overflows a backlog.
  const overflowsAtStart = listenOverflows();
  let upstreamAtStart = 0;
  const warmedUp = setTimeout(async () => {
    measuring = true;
    cpuAtStart = process.cpuUsage();
    rss.push(procStatusMb(target.pid, 'VmRSS'));
    upstreamAtStart = (await target.upstreamStats?.())?.answered ?? 0;
  }, shape.warmup * 1000);
  const sampler = setInterval(() => {
    if (measuring) rss.push(procStatusMb(target.pid, 'VmRSS'));
  }, 1000);
  const record = (ms: number) => {
    if (measuring) latencies.push(ms);
  };
  const generatorErrors =
    load.kind === 'requests'
      ? await driveRequests(target.url, load.requests, shape, record)
      : await driveFlow(load.once, shape, record, counter);
  clearTimeout(warmedUp);
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuAtStart);
  rss.push(procStatusMb(target.pid, 'VmRSS'));
  const upstream = await target.upstreamStats?.();
  const sorted = latencies.sort((a, b) => a - b);
  // Requests still in flight when the load stopped finish first (the slowest take about twice the
  // p99 of the round), so the heap holds none of them.
  const settle = shape.connections >= 100 ? Math.min(10_000, Math.max(1000, 2 * percentile(sorted, 99))) : 0;
  await new Promise((resolve) => setTimeout(resolve, settle));
  const heapAfterGcMb = await target.heapAfterGc();
  const completed = sorted.length;
  return {
    rps: Math.round(completed / shape.seconds),
    p50: round2(percentile(sorted, 50)),
    p99: round2(percentile(sorted, 99)),
    errors: counter.errors + generatorErrors,
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

/** autocannon; each response's time goes to `record`. Answers the errors autocannon itself saw. */
async function driveRequests(
  url: string,
  requests: autocannon.Request[],
  shape: Shape,
  record: (ms: number) => void,
): Promise<number> {
  const instance = autocannon({
    url,
    connections: shape.connections,
    duration: shape.warmup + shape.seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests,
  });
  // The promise autocannon returns is also its event emitter: each response comes with its time.
  (instance as unknown as NodeJS.EventEmitter).on(
    'response',
    (_client: unknown, _status: number, _bytes: number, ms: number) => record(ms),
  );
  const result = await instance;
  return result.errors + result.timeouts + result.non2xx;
}

/**
 * `connections` loops, each doing one unit after another until the time is up; each completed
 * unit's time goes to `record`, each failed one counts as an error. Units still running at the end
 * are awaited (not counted), so the next round starts on a quiet system.
 */
async function driveFlow(
  once: () => Promise<void>,
  shape: Shape,
  record: (ms: number) => void,
  counter: Counter,
): Promise<number> {
  const end = performance.now() + (shape.warmup + shape.seconds) * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const startedAt = performance.now();
      try {
        await once();
        if (performance.now() <= end) record(performance.now() - startedAt);
      } catch {
        counter.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: shape.connections }, loop));
  return 0;
}
