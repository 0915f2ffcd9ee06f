import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { classifyFault } from '../../src/upstream/calls/faults.ts';
import { createMayHaveHappened, isRetryable } from '../../src/upstream/calls/retry-policy.ts';
import { LeanOpenAI } from '../../src/upstream/sdk/fast-read-client.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';
import { GetThreadDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

const MiB = 1024 * 1024;

/** An upstream whose every answer is a JSON document of `bytes` bytes, streamed, never allocated. */
interface HugeUpstream {
  url: string;
  /** Bytes the server got into its sockets before the gateway stopped reading. */
  written: number;
  requests: number;
  /** Sockets the gateway closed on us. */
  closedSockets: number;
  close(): Promise<void>;
}

async function startHugeUpstream(bytes: number, { declareLength }: { declareLength: boolean }): Promise<HugeUpstream> {
  const sockets = new Set<Socket>();
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const huge: HugeUpstream = {
    url: '',
    written: 0,
    requests: 0,
    closedSockets: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    // The gateway's readiness probe gets a Threads server's two different 404s; only reads of the test count.
    if (req.url?.includes('gatewayreadinessprobe')) {
      const route = req.url.endsWith('probe000') ? 'No thread found.' : 'Unknown route.';
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: route } }));
      return;
    }
    if (req.url?.endsWith('/thread_huge')) huge.requests++;
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(declareLength ? { 'content-length': String(bytes) } : {}),
    });
    const head = Buffer.from('{"id":"thread_huge","object":"thread","created_at":1,"metadata":{"pad":"');
    res.write(head);
    let sent = head.length;
    const pump = (): void => {
      while (sent < bytes - 3) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - 3 - sent));
        sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end('"}}');
    };
    req.socket.on('close', () => {
      huge.written += req.socket.bytesWritten;
    });
    pump();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      huge.closedSockets++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  huge.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return huge;
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the upstream transport', () => {
  let gateway: Gateway | undefined;
  let huge: HugeUpstream | undefined;
  let upstream: TestUpstream | undefined;
  afterEach(async () => {
    await closeAll(gateway, huge, upstream);
    gateway = undefined;
    huge = undefined;
    upstream = undefined;
  });

  for (const declareLength of [false, true]) {
    it(`stops reading a 200 MB answer at UPSTREAM_MAX_RESPONSE_BYTES (${declareLength ? 'Content-Length' : 'chunked'}): UPSTREAM_ERROR, socket discarded, memory bounded`, async () => {
      huge = await startHugeUpstream(200 * MiB, { declareLength });
      gateway = testGateway({
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: huge.url,
        UPSTREAM_MAX_RESPONSE_BYTES: String(MiB),
      });
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const result = await execute(gateway, GetThreadDocument, { id: 'thread_huge' });
      const rssGrowth = process.memoryUsage().rss - rssBefore;

      expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
      expect(result.errors?.[0]?.message).toMatch(/UPSTREAM_MAX_RESPONSE_BYTES/);
      // An oversize answer is not a fault worth resending: it would be as large again.
      expect(huge.requests).toBe(1);
      // The gateway hung up: the socket is gone, and with it whatever the server had left to send.
      await until(() => huge?.closedSockets === 1);
      expect(huge.closedSockets).toBe(1);
      // What reached the socket is the cap plus the kernel's buffers, not 200 MB.
      expect(huge.written).toBeLessThan(32 * MiB);
      expect(rssGrowth).toBeLessThan(64 * MiB);
    });
  }

  it('reads its pool size and cap from the environment, with documented defaults and clear errors', () => {
    const defaults = loadConfig({});
    expect(defaults.upstreamConnections).toBe(1024);
    expect(defaults.upstreamMaxResponseBytes).toBe(8 * MiB);
    expect(loadConfig({ UPSTREAM_CONNECTIONS: '64', UPSTREAM_MAX_RESPONSE_BYTES: '65536' })).toMatchObject({
      upstreamConnections: 64,
      upstreamMaxResponseBytes: 65536,
    });
    expect(() => loadConfig({ UPSTREAM_CONNECTIONS: '0' })).toThrow(/UPSTREAM_CONNECTIONS/);
    expect(() => loadConfig({ UPSTREAM_MAX_RESPONSE_BYTES: '1MB' })).toThrow(/UPSTREAM_MAX_RESPONSE_BYTES/);
  });

  it('keeps the default cap at 8 MiB, and serves answers under it', async () => {
    huge = await startHugeUpstream(9 * MiB, { declareLength: false });
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: huge.url });
    expect(gateway.config.upstreamMaxResponseBytes).toBe(8 * MiB);
    expect(codes(await execute(gateway, GetThreadDocument, { id: 'thread_huge' }))).toEqual(['UPSTREAM_ERROR']);
    await closeAll(gateway, huge);

    huge = await startHugeUpstream(7 * MiB, { declareLength: false });
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: huge.url });
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_huge' });
    expect(result.errors).toBeUndefined();
    expect(result.data?.thread?.id).toBe('thread_huge');
  });

  it('times an attempt from when a socket takes it: waiting for a free socket does not count', async () => {
    // One socket, an upstream that takes 400 ms, a 700 ms timeout: the second read waits 400 ms for
    // the socket and then 400 ms for its answer. Timed from the queue, it would time out and retry.
    upstream = await startTestUpstream(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return { forward: true };
    });
    const ids = [
      (await upstream.backend.store.createThread({})).id,
      (await upstream.backend.store.createThread({})).id,
    ];
    gateway = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      UPSTREAM_CONNECTIONS: '1',
      UPSTREAM_TIMEOUT_MS: '700',
    });
    const results = await Promise.all(ids.map((id) => execute(gateway as Gateway, GetThreadDocument, { id })));
    expect(results.map((result) => result.errors)).toEqual([undefined, undefined]);
    expect(results.map((result) => result.data?.thread?.id)).toEqual(ids);
    expect(upstream.count('GET')).toBe(2);
    expect(upstream.peakInFlight).toBe(1);
  });

  it('still times out an attempt whose socket never answers', async () => {
    upstream = await startTestUpstream(() => 'hang');
    gateway = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      UPSTREAM_TIMEOUT_MS: '200',
      UPSTREAM_MAX_RETRIES: '0',
    });
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_hangs' });
    expect(codes(result)).toEqual(['UPSTREAM_TIMEOUT']);
  });

  it('fails a call that only waited for a socket as never sent: a create is safe to resend', async () => {
    // The only socket is held by a read that hangs under a long timeout; the create, under a short
    // one, never leaves the process.
    upstream = await startTestUpstream((request) => (request.method === 'GET' ? 'hang' : { forward: true }));
    const transport = createUpstreamTransport({ connections: 1 });
    const client = new LeanOpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0, fetch: transport.fetch });
    const read = client.beta.threads.retrieve('thread_hangs', { timeout: 5_000 }).catch((error: unknown) => error);
    await until(() => upstream?.count('GET') === 1);
    const error = await client.beta.threads.create({}, { timeout: 200 }).catch((caught: unknown) => caught);
    const fault = classifyFault(error);
    expect(fault?.kind).toBe('refused');
    expect(fault && createMayHaveHappened(fault)).toBe(false);
    expect(fault && isRetryable(fault, 'create')).toBe(true);
    expect(upstream.count('POST')).toBe(0);
    await upstream.close();
    upstream = undefined;
    await read;
    await transport.close();
  });
});

describe('connection failures are classified by their codes, never by their text', () => {
  // undici's texts name the host; the SDK tests texts for "timed out". A host called `timeout-…`
  // must not turn a connection that was never made into a timeout (and a create into "unknown").
  const host = 'http://timeout-upstream.invalid/v1';

  it('an unresolvable host named "timeout-…" is a refused connection on both read paths, not a timeout', async () => {
    const transport = createUpstreamTransport();
    try {
      const client = new LeanOpenAI({ apiKey: 'sk-test', baseURL: host, maxRetries: 0, fetch: transport.fetch });
      // One at a time: a read made before the previous one settled could reject with no handler yet.
      const reads = [
        () => client.read('/threads/thread_abc', { headers: { 'OpenAI-Beta': 'assistants=v2' } }),
        () => client.beta.threads.retrieve('thread_abc'),
      ];
      for (const read of reads) {
        const error = await read().then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(classifyFault(error)).toEqual({ kind: 'refused' });
      }
    } finally {
      await transport.close();
    }
  });

  it('a create against it reports outcome "not_created", never "unknown"', async () => {
    const gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: host, UPSTREAM_API: 'threads' });
    try {
      const result = await execute(gateway, 'mutation { createThread(input: {}) { id } }');
      expect(result.errors?.[0]?.extensions).toMatchObject({ outcome: 'not_created' });
    } finally {
      await gateway.close();
    }
  });
});
