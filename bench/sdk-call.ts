import OpenAI from 'openai';
import { LeanOpenAI } from '../src/upstream/lean-openai.ts';

// `npx tsx bench/sdk-call.ts`: CPU microseconds one SDK call costs in-process, against a fake fetch
// that answers at once, so only the client's own per-call work is measured (rotated rounds, median).
const thread = JSON.stringify({
  id: 'thread_abc',
  object: 'thread',
  created_at: 1,
  metadata: {},
  tool_resources: null,
});
const headers = new Map([['content-type', 'application/json']]);
const answer = {
  status: 200,
  ok: true,
  url: '',
  headers: { get: (name: string) => headers.get(name) ?? null, entries: () => headers.entries() },
  json: async () => JSON.parse(thread),
  text: async () => thread,
} as unknown as Response;
const fetch = async () => answer;
const options = { apiKey: 'sk-bench', baseURL: 'http://upstream.test/v1', maxRetries: 0, timeout: 10_000, fetch };
const stock = new OpenAI(options);
const lean = new LeanOpenAI(options);

const variants: Record<string, () => Promise<unknown>> = {
  'stock beta.threads.retrieve': () => stock.beta.threads.retrieve('thread_abc', { timeout: 5000, maxRetries: 0 }),
  'lean beta.threads.retrieve': () => lean.beta.threads.retrieve('thread_abc', { timeout: 5000, maxRetries: 0 }),
  'lean get, plain headers': () =>
    lean.get('/threads/thread_abc', { timeout: 5000, maxRetries: 0, headers: { 'OpenAI-Beta': 'assistants=v2' } }),
};
const N = 20_000;
const results: Record<string, number[]> = {};
for (let round = 0; round < 7; round++) {
  for (const [name, call] of Object.entries(variants)) {
    const started = process.cpuUsage();
    for (let index = 0; index < N; index++) await call();
    const used = process.cpuUsage(started);
    results[name] = [...(results[name] ?? []), (used.user + used.system) / N];
  }
}
for (const [name, samples] of Object.entries(results)) {
  const sorted = samples.slice(2).sort((a, b) => a - b);
  console.log(
    `${name}: ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} µs CPU per call (median of ${sorted.length})`,
  );
}
