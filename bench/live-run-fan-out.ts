import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { chunk } from '../test/helpers/chat-completions-server.ts';
import { graphql, percentile, startGateway, startUpstream, wireHeaders } from './live-kit.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tokens written before the timed ones (`w0 `, …), so that the timed ones find the gateway's code warm. */
const WARM_UP_TOKENS = 10;

/**
 * A model server in this process: the role at once, then, once `release` is called, WARM_UP_TOKENS
 * untimed tokens and `tokens` timed ones (`t0 `, `t1 `, …), one every `tokenMs`, each timed one's
 * time of writing kept in `written`.
 */
async function pacedModel(tokens: number, tokenMs: number) {
  const written: number[] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`);
      await released;
      for (let index = 0; index < WARM_UP_TOKENS; index++) {
        res.write(`data: ${JSON.stringify(chunk({ content: `w${index} ` }))}\n\n`);
        await pause(tokenMs);
      }
      for (let index = 0; index < tokens; index++) {
        written[index] = performance.now();
        res.write(`data: ${JSON.stringify(chunk({ content: `t${index} ` }))}\n\n`);
        await pause(tokenMs);
      }
      res.end(`data: ${JSON.stringify(chunk({}, 'stop'))}\n\ndata: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, written, release, close: () => server.close() };
}

/**
 * One run watched by `subscribers` runEvents subscriptions (graphql-ws, `perSocket` per connection)
 * against a Threads server whose model the bench drives: once every subscription has its first
 * event, the model writes a token every `tokenMs` (the first WARM_UP_TOKENS untimed: the gateway's
 * delivery path runs cold for the first few); each timed MessageTextDelta is timed from the moment
 * the model wrote its token (before the Threads server and then the gateway handle it) to its
 * arrival at each subscriber.
 */
export async function runFanOut(subscribers: number, perSocket: number, tokens = 10, tokenMs = 100) {
  const model = await pacedModel(tokens, tokenMs);
  const upstream = await startUpstream({ modelUrl: model.url });
  const gateway = await startGateway({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-bench' });
  const clients: Array<ReturnType<typeof createClient>> = [];
  try {
    const created = await fetch(`${upstream.url}/threads`, {
      method: 'POST',
      headers: wireHeaders,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
    });
    const threadId = ((await created.json()) as { id: string }).id;
    const run = await graphql(
      gateway.url,
      'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "bench-model" }) { runId } }',
      { t: threadId },
    );
    const variables = { t: threadId, r: run.data.createRun?.runId };
    const query =
      'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename ... on MessageTextDelta { text } } }';
    const delays: number[] = [];
    let started = 0;
    for (let socket = 0; socket < subscribers / perSocket; socket++) {
      const client = createClient({
        url: gateway.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(client);
      for (let index = 0; index < perSocket; index++) {
        let first = true;
        client.subscribe(
          { query, variables },
          {
            next: (result) => {
              const arrived = performance.now();
              if (first) {
                first = false;
                started++;
              }
              const event = (result.data as { runEvents?: { text?: string } } | undefined)?.runEvents;
              const token = /^t(\d+) $/.exec(event?.text ?? '')?.[1];
              if (token !== undefined) delays.push(arrived - (model.written[Number(token)] ?? arrived));
            },
            error: () => undefined,
            complete: () => undefined,
          },
        );
      }
    }
    for (let waited = 0; started < subscribers && waited < 60_000; waited += 50) await pause(50);
    await pause(500);
    await gateway.profile('start');
    const cpuBefore = await gateway.cpuMicros();
    const clientCpu = process.cpuUsage();
    model.release();
    const expected = subscribers * tokens;
    for (let waited = 0; delays.length < expected && waited < 60_000; waited += 50) await pause(50);
    const cpuAfter = await gateway.cpuMicros();
    const clientUsage = process.cpuUsage(clientCpu);
    await gateway.profile('stop');
    // CPU per delivered event (µs), the untimed ones included: what one subscriber costs per token.
    const perDelivery = (micros: number) => Math.round(micros / Math.max(1, subscribers * (tokens + WARM_UP_TOKENS)));
    return {
      subscribers,
      perSocket,
      tokens,
      tokenMs,
      subscribed: started,
      delivered: delays.length,
      deliveryP50Ms: percentile(delays, 50),
      deliveryP99Ms: percentile(delays, 99),
      gatewayCpuMicrosPerDelivery: perDelivery(cpuAfter - cpuBefore),
      // The subscribers' (this process's, the model's too).
      clientCpuMicrosPerDelivery: perDelivery(clientUsage.user + clientUsage.system),
    };
  } finally {
    for (const client of clients) await client.dispose();
    gateway.stop();
    upstream.process.kill('SIGKILL');
    model.close();
  }
}
