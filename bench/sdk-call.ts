import { fork } from 'node:child_process';
import OpenAI from 'openai';
import { LeanOpenAI } from '../src/upstream/sdk/fast-read-client.ts';
import { hotReads } from '../src/upstream/sdk/read-paths.ts';
import { createUpstreamTransport } from '../src/upstream/sdk/transport.ts';

// `npx tsx bench/sdk-call.ts`: CPU microseconds one `beta.threads.retrieve` costs this process,
// the SDK's stock client against `LeanOpenAI`, two ways: in-process against a fake fetch that
// answers at once (the client's own per-call work only), and over HTTP through the gateway's
// transport to the bench upstream in another process (what a call costs the gateway, syscalls
// included), with the lean read path (`LeanOpenAI.read`, issue 12 option 2) and a bare transport
// GET (no client: the floor under any read path) beside them. Rounds rotate through the variants;
// the median round is shown, every round after.

const thread = JSON.stringify({
  id: 'thread_abc',
  object: 'thread',
  created_at: 1,
  metadata: {},
  tool_resources: null,
});
const answerHeaders = new Map([['content-type', 'application/json']]);
const answer = {
  status: 200,
  ok: true,
  url: '',
  headers: { get: (name: string) => answerHeaders.get(name) ?? null, entries: () => answerHeaders.entries() },
  json: async () => JSON.parse(thread),
  text: async () => thread,
} as unknown as Response;
const fakeFetch = async () => answer;

const upstream = fork('bench/upstream.ts', [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const seeded = await new Promise<{ url: string; threads: Array<{ id: string }> }>((resolve) =>
  upstream.once('message', (message) => resolve(message as { url: string; threads: Array<{ id: string }> })),
);
const ids = seeded.threads.map((entry) => entry.id);
const transport = createUpstreamTransport();
const base = { apiKey: 'sk-bench', maxRetries: 0, timeout: 10_000, organization: null, project: null };
const inProcess = { ...base, baseURL: 'http://upstream.test/v1', fetch: fakeFetch };
const overHttp = { ...base, baseURL: seeded.url, fetch: transport.fetch };

const variants: Array<{ name: string; client: OpenAI; calls: number; concurrency: number }> = [
  { name: 'in-process, stock OpenAI', client: new OpenAI(inProcess), calls: 20_000, concurrency: 1 },
  { name: 'in-process, LeanOpenAI', client: new LeanOpenAI(inProcess), calls: 20_000, concurrency: 1 },
  { name: 'over HTTP, stock OpenAI + transport', client: new OpenAI(overHttp), calls: 4_000, concurrency: 16 },
  { name: 'over HTTP, LeanOpenAI + transport', client: new LeanOpenAI(overHttp), calls: 4_000, concurrency: 16 },
];
// The lean read path (issue 12, option 2): the same GET through `LeanOpenAI.read`, no makeRequest.
const leanReads = hotReads(new LeanOpenAI(overHttp), 'lean');
const lean = {
  name: 'over HTTP, LeanOpenAI.read (lean read path) + transport',
  calls: 4_000,
  concurrency: 16,
  call: (id: string) => leanReads.retrieveThread(id, { timeout: 5_000 }),
};
// The floor under any read path on this transport: the same GET, no client at all.
const bare = {
  name: 'over HTTP, transport alone (no SDK)',
  calls: 4_000,
  concurrency: 16,
  call: async (id: string) => {
    const response = await transport.fetch(
      `${seeded.url}/threads/${id}`,
      {
        method: 'GET',
        headers: { authorization: 'Bearer sk-bench', 'openai-beta': 'assistants=v2', accept: 'application/json' },
      },
      5_000,
    );
    return response.json();
  },
};
const results = new Map<string, number[]>();
for (let round = 0; round < 7; round++) {
  for (const variant of [...variants, lean, bare]) {
    let next = 0;
    const started = process.cpuUsage();
    await Promise.all(
      Array.from({ length: variant.concurrency }, async () => {
        while (next < variant.calls) {
          next++;
          const id = ids[next % ids.length] ?? 'thread_abc';
          if ('client' in variant) await variant.client.beta.threads.retrieve(id, { timeout: 5_000 });
          else await variant.call(id);
        }
      }),
    );
    const used = process.cpuUsage(started);
    // The first round warms the JIT up and is left out.
    if (round > 0)
      results.set(variant.name, [...(results.get(variant.name) ?? []), (used.user + used.system) / variant.calls]);
  }
}
for (const [name, samples] of results) {
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(
    `${name}: ${sorted[Math.floor((sorted.length - 1) / 2)]?.toFixed(1)} µs CPU per call (rounds: ${samples.map((sample) => sample.toFixed(0)).join(', ')})`,
  );
}
await transport.close();
upstream.kill();
process.exit(0);
