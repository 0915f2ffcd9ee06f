import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import OpenAI from 'openai';
import { distinctIds, fastScenarios, type Load } from './scenarios.ts';

// `npm run build && npx tsx bench/cpu.ts bench/gateway.ts`: CPU microseconds per GraphQL request spent by one system
// and by the upstream, on uniform thread(id) reads. BENCH_PROFILE=/tmp/x.cpuprofile writes a CPU profile
// of the measured window only (bench/serve-gateway.ts); CPU_PROF_ARGS passes flags to its node.
// CPU_CONNECTIONS (32), BENCH_DELAY_MS (0) and BENCH_SEED_THREADS (50) give the "where users are"
// shape: `CPU_CONNECTIONS=1000 BENCH_DELAY_MS=500 BENCH_SEED_THREADS=10000`. CPU_QUERY replaces the
// operation (its one variable is `$id`); CPU_WARMUP_SECONDS (2) and CPU_SECONDS (6) the timing.
// CPU_IDS=distinct draws ids round robin, none shared by two requests in flight (the bench's
// "distinct ids" row); the default draws them at random. CPU_SCENARIO=mutations (any part of a
// bench row's name) sends that row's requests instead; for the run row, CPU_CONNECTIONS loops of runs
// (on BENCH_RUN_THREADS threads, 2000), and the figures are per run.
const script = process.argv[2] ?? 'bench/gateway.ts';
const extra = (process.env.CPU_PROF_ARGS ?? '').split(' ').filter(Boolean);
const cpuSeconds = (pid: number | undefined) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const start = (file: string, env: Record<string, string>, execArgv: string[] = []) => {
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<{ child: typeof child; message: Record<string, unknown> }>((resolve) =>
    child.once('message', (message) => resolve({ child, message: message as Record<string, unknown> })),
  );
};
const shape = {
  connections: Number(process.env.CPU_CONNECTIONS ?? 32),
  delay: process.env.BENCH_DELAY_MS ?? '0',
  seed: process.env.BENCH_SEED_THREADS ?? '50',
};
const upstream = await start('bench/upstream.ts', {
  BENCH_DELAY_MS: shape.delay,
  BENCH_SEED_THREADS: shape.seed,
  BENCH_SEED_MESSAGES: process.env.BENCH_SEED_MESSAGES ?? '0',
  BENCH_RUN_THREADS: process.env.BENCH_RUN_THREADS ?? '2000',
});
const threads = upstream.message.threads as Array<{ id: string }>;
const system = await start(
  script,
  {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: String(upstream.message.url),
    BENCH_DELAY_MS: shape.delay,
    BENCH_LOOP_DELAY: '1',
    ...(process.env.BENCH_PROFILE ? { BENCH_PROFILE: process.env.BENCH_PROFILE } : {}),
  },
  extra,
);
const query = process.env.CPU_QUERY ?? 'query Read($id: ID!) { thread(id: $id) { id createdAt metadata } }';
const distinct = process.env.CPU_IDS === 'distinct';
const scenario = process.env.CPU_SCENARIO
  ? fastScenarios.find((candidate) => candidate.name.includes(String(process.env.CPU_SCENARIO)))
  : undefined;
const scenarioLoad = async (): Promise<Load> => {
  const upstreamUrl = String(upstream.message.url);
  const assistant = await new OpenAI({ apiKey: 'sk-bench', baseURL: upstreamUrl }).beta.assistants.create({
    model: 'echo',
  });
  const fixture = {
    ids: threads.map((thread) => thread.id),
    runThreads: (upstream.message.runThreads as string[] | undefined) ?? [],
    assistantId: assistant.id,
    upstreamUrl,
    apiKey: 'sk-bench',
  };
  const load = scenario?.load({ name: 'gateway', url: String(system.message.url) }, { errors: 0 }, fixture);
  if (!load) throw new Error(`CPU_SCENARIO ${process.env.CPU_SCENARIO}: no bench row has it`);
  return load;
};
const load = scenario ? await scenarioLoad() : undefined;
/** A flow row (a run to completion): CPU_CONNECTIONS loops of units until the time is up. */
const driveFlow = async (once: () => Promise<void>, duration: number) => {
  const end = performance.now() + duration * 1000;
  const times: number[] = [];
  let errors = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const startedAt = performance.now();
      await once().then(
        () => times.push(performance.now() - startedAt),
        () => errors++,
      );
    }
  };
  await Promise.all(Array.from({ length: shape.connections }, loop));
  times.sort((a, b) => a - b);
  const at = (p: number) => Number((times[Math.floor(((times.length - 1) * p) / 100)] ?? 0).toFixed(1));
  return { requests: { total: times.length }, latency: { p50: at(50), p99: at(99) }, errors, non2xx: 0 };
};
const drive = (duration: number) => {
  if (load?.kind === 'flow') return driveFlow(load.once, duration);
  const chooser = distinctIds(threads.map((thread) => thread.id));
  const take = () => (distinct ? chooser.take() : threads[Math.floor(Math.random() * threads.length)]?.id);
  return autocannon({
    url: String(system.message.url),
    connections: shape.connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: load
      ? load.requests
      : [
          {
            method: 'POST',
            setupRequest: (request, context) => {
              const id = take();
              (context as { id?: string }).id = id;
              return { ...request, body: JSON.stringify({ query, variables: { id } }) };
            },
            onResponse: (_status, _text, context) => chooser.release((context as { id?: string }).id),
          },
        ],
  });
};
const seconds = Number(process.env.CPU_SECONDS ?? 6);
await drive(Number(process.env.CPU_WARMUP_SECONDS ?? 2));
system.child.send('reset');
const before = [cpuSeconds(system.child.pid), cpuSeconds(upstream.child.pid)];
const result = await drive(seconds);
const requests = result.requests.total;
const perRequest = (now: number, then = 0) => (((now - then) * 1e6) / requests).toFixed(0);
console.log(
  `${script}: ${Math.round(requests / seconds)} req/s, ${perRequest(cpuSeconds(system.child.pid), before[0])} µs CPU per request, upstream ${perRequest(cpuSeconds(upstream.child.pid), before[1])} µs, client p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms, errors ${result.errors + result.non2xx}`,
);
system.child.kill('SIGINT');
upstream.child.kill('SIGTERM');
