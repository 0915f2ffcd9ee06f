import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createOpenAIClient } from '../../src/upstream/sdk/openai-client.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';

/**
 * An event-stream answer is handed on as it comes, with backpressure: a reader that does not read
 * holds the upstream socket paused (bounded memory here), every byte arrives once it reads, and a
 * reader that stops early, or the caller's stream signal, ends the exchange.
 */
let server: Server | undefined;
const transports: Array<ReturnType<typeof createUpstreamTransport>> = [];
afterEach(async () => {
  for (const transport of transports.splice(0)) await transport.abort();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const EVENT = `event: thread.message.delta\ndata: ${JSON.stringify({ text: 'x'.repeat(1000) })}\n\n`;

/** Streams `events` events as fast as the socket takes them; reports what it managed to write. */
async function startStreamer(events: number) {
  const seen = { written: 0, finished: false, closed: false };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    const pump = () => {
      while (sent < events) {
        sent++;
        seen.written += EVENT.length;
        if (!res.write(EVENT)) return void res.once('drain', pump);
      }
      res.end(() => {
        seen.finished = true;
      });
    };
    res.on('close', () => {
      seen.closed = true;
    });
    pump();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const transport = createUpstreamTransport({ maxResponseBytes: 64 * 1024 * 1024 });
  transports.push(transport);
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`, transport };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a reader that does not read pauses the upstream; reading resumes it and every byte arrives once', async () => {
  const { seen, url, transport } = await startStreamer(20_000);
  const answer = await transport.fetch(url, { method: 'POST', body: '{}' });
  await pause(300);
  // 20 MB offered; the socket buffers and 64 KB queued here are all that left the server.
  expect(seen.finished).toBe(false);
  expect(seen.written).toBeLessThan(8 * 1024 * 1024);
  let bytes = 0;
  for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  expect(bytes).toBe(20_000 * EVENT.length);
  expect(seen.finished).toBe(true);
});

it('a reader that stops early ends the exchange; so does the stream signal', async () => {
  for (const how of ['return', 'signal'] as const) {
    const { seen, url, transport } = await startStreamer(1_000_000);
    const controller = new AbortController();
    const answer = await transport.fetch(url, { method: 'POST', body: '{}' }, 0, controller.signal);
    const iterator = (answer.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    if (how === 'return') {
      await iterator.return?.();
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    } else {
      controller.abort();
      // What was queued may still be read; then the reader sees an AbortError, never a connection fault.
      let ending = 'read';
      for (let read = 0; read < 1_000 && ending === 'read'; read++) {
        ending = await iterator.next().then(
          (item) => (item.done ? 'done' : 'read'),
          (error: Error) => error.name,
        );
      }
      expect(ending).toBe('AbortError');
    }
    for (let wait = 0; !seen.closed && wait < 100; wait++) await pause(10);
    expect(seen.closed).toBe(true);
    expect(seen.finished).toBe(false);
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
});

it('the SDK’s stream over the transport ends quietly when its controller stops it mid-stream', async () => {
  const { seen, url, transport } = await startStreamer(1_000_000);
  const client = createOpenAIClient({
    baseURL: url.replace(/\/stream$/, ''),
    apiKey: 'sk',
    fetch: transport.fetch,
    timeoutMs: 5_000,
  });
  const stream = await client.beta.threads.runs.create('thread_x', { assistant_id: 'asst_x', stream: true });
  const events: string[] = [];
  const reading = (async () => {
    for await (const event of stream) {
      events.push(event.event);
      if (events.length === 3) stream.controller.abort();
    }
  })();
  await expect(reading).resolves.toBeUndefined();
  expect(events.length).toBeGreaterThanOrEqual(3);
  for (let wait = 0; !seen.closed && wait < 100; wait++) await pause(10);
  expect(seen.closed).toBe(true);
});
