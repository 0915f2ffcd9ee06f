import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalBackend } from '../src/local-backend/backend.ts';
import { fromNode, writeStream } from '../src/local-backend/serve.ts';

// The bench's upstream: the local backend over plain node:http with threads seeded
// (BENCH_SEED_THREADS, 50 by default). BENCH_DELAY_MS holds every answer that long, like a hosted API that answers in
// 50-500 ms. It counts the requests it answers and times each one from its arrival to its last
// byte, so every system's upstream calls, and the upstream's own latency, are measured here, the
// same way for all. `GET /__bench/stats` reads them and starts a new window.
const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
const seeded = Number(process.env.BENCH_SEED_THREADS ?? 50);
// Each thread holds BENCH_SEED_MESSAGES messages (30), so `messages(first: 20)` reads a full page with more to come.
const messagesPerThread = Number(process.env.BENCH_SEED_MESSAGES ?? 30);
const backend = createLocalBackend();
const threads: Array<{ id: string }> = [];
for (let index = 0; index < seeded; index++) {
  const thread = await backend.store.createThread({
    metadata: { n: String(index) },
    messages: Array.from({ length: messagesPerThread }, (_, message) => ({
      role: message % 2 ? 'assistant' : 'user',
      content: [{ type: 'text', text: { value: `message ${message} of thread ${index}`, annotations: [] } }],
    })),
  });
  threads.push({ id: thread.id });
}

// BENCH_RUN_THREADS (0) more threads of one user message each, for runs: a run reads its whole
// thread, so the run row spreads its runs over many short threads.
const runThreads: string[] = [];
for (let index = 0; index < Number(process.env.BENCH_RUN_THREADS ?? 0); index++) {
  const thread = await backend.store.createThread({
    metadata: { run: String(index) },
    messages: [
      { role: 'user', content: [{ type: 'text', text: { value: 'Say hello to the bench', annotations: [] } }] },
    ],
  });
  runThreads.push(thread.id);
}

let answered = 0;
let latencies: number[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

const server = createServer((req, res) => {
  if (req.url === '/__bench/stats') {
    const sorted = latencies.sort((a, b) => a - b);
    res.end(JSON.stringify({ answered, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }));
    latencies = [];
    return;
  }
  const arrived = performance.now();
  void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const answer = await backend.handle(fromNode(req, Buffer.concat(chunks).toString('utf8')));
    if (answer.stream) {
      // A run or response created with `stream: true`: its events as they are written.
      res.once('finish', () => {
        answered++;
        latencies.push(performance.now() - arrived);
      });
      await writeStream(res, answer, answer.stream);
      return;
    }
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body, () => {
      answered++;
      latencies.push(performance.now() - arrived);
    });
  })();
});
server.keepAliveTimeout = 65_000;
// Up to UPSTREAM_CONNECTIONS sockets open at once when a gateway's load starts.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({
    url: `http://127.0.0.1:${port}/v1`,
    threads: threads.map((thread) => ({ id: thread.id })),
    runThreads,
  });
});
