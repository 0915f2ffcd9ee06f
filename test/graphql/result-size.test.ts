import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { jsonBytes, jsonPieces } from '../../src/graphql/json-walk.ts';
import { codes, execute } from '../helpers/gateway.ts';
import { type Started, startProcess } from '../helpers/process.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

/** The query: a page nested under each message of a page, the text asked five times over. */
const nested = (threadId: string) =>
  `query { thread(id: "${threadId}") { messages(first: 100) { nodes { thread { messages(first: 100) { nodes { t0: text t1: text t2: text t3: text t4: text } } } } } } }`;

/** What a chat view asks for: one page of messages with every field once, content parts and all. */
const chatView = (threadId: string) => `query {
  thread(id: "${threadId}") {
    id createdAt metadata
    messages(first: 100) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { __typename id threadId createdAt role text attachments metadata status assistantId runId
        content { __typename ... on TextContent { text annotations } ... on ImageFileContent { fileId detail }
          ... on ImageUrlContent { url detail } ... on RefusalContent { refusal } } } }
    }
  }
}`;

/** A thread of `count` messages of `chars` characters each, in the test upstream's store. */
async function seed(upstream: TestUpstream, count: number, chars: number): Promise<string> {
  const thread = await upstream.store.createThread({});
  for (let index = 0; index < count; index++) {
    const value = `${index}:`.padEnd(chars, 'x');
    await upstream.store.createMessage(thread.id, {
      role: 'user',
      content: [{ type: 'text', text: { value, annotations: [] } }],
    });
  }
  return thread.id;
}

describe('MAX_RESULT_NODES: the answer is estimated before execution', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let threadId: string;
  beforeAll(async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
    threadId = await seed(upstream, 100, 10_000);
  });
  afterAll(() => closeAll(gateway, upstream));
  afterEach(() => {
    upstream.seen.length = 0;
  });

  it('refuses the 165-byte nested query with RESULT_TOO_LARGE, nothing upstream', async () => {
    const query = nested(threadId);
    // 165 bytes with the id; the store's ids are longer.
    expect(Buffer.byteLength(query)).toBeLessThan(200);
    const response = await execute(gateway, query);
    expect(codes(response)).toEqual(['RESULT_TOO_LARGE']);
    expect(response.errors?.[0]?.extensions).toMatchObject({ limit: 50_000 });
    expect(response.data ?? null).toBeNull();
    expect(upstream.seen).toEqual([]);
  });

  it('refuses it over GET, and spelled with fragments and inline fragments', async () => {
    const url = `http://gateway.test/graphql?query=${encodeURIComponent(nested(threadId))}`;
    const get = await gateway.yoga.fetch(url, { headers: { accept: 'application/graphql-response+json' } });
    const body = (await get.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['RESULT_TOO_LARGE']);
    const spelled = `query { thread(id: "${threadId}") { ...Page } }
      fragment Page on Thread { messages(first: 100) { nodes { thread { messages(first: 100) { nodes {
        ...Texts ... on ThreadMessage { t3: text t4: text } } } } } } }
      fragment Texts on ThreadMessage { t0: text t1: text t2: text }`;
    expect(codes(await execute(gateway, spelled))).toEqual(['RESULT_TOO_LARGE']);
    expect(upstream.seen).toEqual([]);
  });

  it('counts page sizes given as variables, and the ids of threads, nodes and _entities', async () => {
    const ids = Array.from({ length: 100 }, () => threadId);
    const texts = 't0: text t1: text t2: text t3: text t4: text';
    const byIds = `query($ids: [ID!]!, $n: Int) { threads(ids: $ids) { messages(first: $n) { nodes { ${texts} } } } }`;
    expect(codes(await execute(gateway, byIds, { ids, n: 100 }))).toEqual(['RESULT_TOO_LARGE']);
    const byNodes = `query($ids: [ID!]!, $n: Int = 100) { nodes(ids: $ids) { ... on Thread { messages(last: $n) { edges { node { ${texts} } } } } } }`;
    expect(codes(await execute(gateway, byNodes, { ids }))).toEqual(['RESULT_TOO_LARGE']);
    const representations = ids.map((id) => ({ __typename: 'Thread', id }));
    const byEntities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Thread { messages(first: 100) { nodes { ${texts} } } } } }`;
    expect(codes(await execute(gateway, byEntities, { r: representations }))).toEqual(['RESULT_TOO_LARGE']);
    expect(upstream.seen).toEqual([]);
    // The same shapes with small pages are answered.
    const small = await execute(gateway, byIds, { ids: ids.slice(0, 2), n: 2 });
    expect(small.errors).toBeUndefined();
  });

  it('answers a realistic chat view (every field of a 100-message page, content parts and all)', async () => {
    const response = await execute(gateway, chatView(threadId));
    expect(response.errors).toBeUndefined();
    const thread = (response.data as { thread: { messages: { edges: unknown[] } } }).thread;
    expect(thread.messages.edges).toHaveLength(100);
  });

  it('answers GraphiQL’s introspection query', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const response = await execute(gateway, getIntrospectionQuery());
    expect(response.errors).toBeUndefined();
  });
});

describe('MAX_RESPONSE_BYTES: the answer is measured before it is written', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let threadId: string;
  beforeAll(async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ MAX_RESPONSE_BYTES: '100000' }));
    threadId = await seed(upstream, 20, 10_000);
  });
  afterAll(() => closeAll(gateway, upstream));

  it('ends an answer over the limit with RESPONSE_TOO_LARGE, not INTERNAL_SERVER_ERROR', async () => {
    const response = await execute(gateway, `{ thread(id: "${threadId}") { messages(first: 20) { nodes { text } } } }`);
    expect(codes(response)).toEqual(['RESPONSE_TOO_LARGE']);
    expect(response.errors?.[0]?.extensions).toMatchObject({ limit: 100_000 });
    expect(response.data ?? null).toBeNull();
  });

  it('writes an answer under the limit whole, byte for byte what JSON.stringify makes', async () => {
    const query = `{ thread(id: "${threadId}") { messages(first: 5, order: ASC) { nodes { id text } } } }`;
    const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const parsed = JSON.parse(text) as { data: { thread: { messages: { nodes: Array<{ text: string }> } } } };
    expect(text).toBe(JSON.stringify(parsed));
    expect(parsed.data.thread.messages.nodes.map((node) => node.text.slice(0, 2))).toEqual([
      '0:',
      '1:',
      '2:',
      '3:',
      '4:',
    ]);
  });

  it('measures and writes JSON exactly as JSON.stringify does', () => {
    const value = {
      plain: 'abc',
      escaped: 'quote " backslash \\ newline \n tab \t control \u0001',
      unicode: 'héllo 世界 🙂 \ud800',
      numbers: [0, -1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY],
      nothing: [undefined, () => 1, null],
      skipped: undefined,
      nested: { deep: [{ a: true, b: false }], empty: {}, list: [] },
      date: new Date(0),
      long: 'y'.repeat(200_000),
    };
    const expected = JSON.stringify(value);
    expect(jsonBytes(value, Number.POSITIVE_INFINITY)).toBe(Buffer.byteLength(expected));
    expect([...jsonPieces(value)].join('')).toBe(expected);
    // Past the limit it stops early with a number over it.
    expect(jsonBytes(value, 1000)).toBeGreaterThan(1000);
  });
});

/** Resident memory of a process, from Linux's /proc. */
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function graphql(url: string, query: string, variables?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function seedOverHttp(url: string, count: number, chars: number): Promise<string> {
  const created = await graphql(url, 'mutation { createThread { id } }');
  const id = (created.data as { createThread: { id: string } }).createThread.id;
  for (let index = 0; index < count; index++) {
    await graphql(
      url,
      'mutation($t: ID!, $c: JSON!) { createMessage(threadId: $t, input: { role: USER, content: $c }) { id } }',
      { t: id, c: `${index}:`.padEnd(chars, 'x') },
    );
  }
  return id;
}

/** Sends one POST on a raw socket and never reads the answer. */
function neverReading(url: URL, query: string): Promise<Socket> {
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      // No 'data' listener and paused: the socket reads nothing more than its own small buffer.
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** A client per query, each sending it again as soon as it has read the whole answer. */
const LOAD = `
const queries = JSON.parse(process.env.QUERIES);
await Promise.all(queries.map(async (query) => {
  for (;;) {
    const response = await fetch(process.env.URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    await response.arrayBuffer();
  }
}));
`;

/** Latencies of /health requests fired every `everyMs` for `forMs`, each timed from its own start. */
async function healthLatencies(url: URL, everyMs: number, forMs: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const latencies: Array<Promise<number>> = [];
  const end = performance.now() + forMs;
  while (performance.now() < end) {
    latencies.push(
      new Promise((resolve) => {
        const started = performance.now();
        const req = request({ host: url.hostname, port: url.port, path: '/health', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(performance.now() - started));
        });
        req.on('error', () => resolve(Number.POSITIVE_INFINITY));
        req.end();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const all = await Promise.all(latencies);
  agent.destroy();
  return all.sort((a, b) => a - b);
}

describe('a gateway process under clients that never read', () => {
  let started: Started;
  let url: URL;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    started = startProcess('src/main.ts', {
      PORT: '0',
      LOCAL_BACKEND_STORE: 'memory',
      LOG_LEVEL: 'info',
      MAX_RESPONSE_BYTES: String(48 * 1024 * 1024),
    });
    const [, address] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    url = new URL(address ?? '');
  }, 30_000);
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    started.child.kill('SIGKILL');
  });

  it('holds a socket buffer per client that never reads, not its answer (50 clients)', async () => {
    const threadId = await seedOverHttp(url.href, 50, 10_000);
    // 50 messages × 80 aliases × 10 KB: a 40 MB answer (this process allows 48 MB), many times what the
    // kernel's socket buffers take of it on loopback, so an answer held whole cannot hide in them.
    const aliases = Array.from({ length: 80 }, (_, index) => `t${index}: text`).join(' ');
    const query = `{ thread(id: "${threadId}") { messages(first: 50) { nodes { ${aliases} } } } }`;
    const answer = JSON.stringify(await graphql(url.href, query)).length;
    expect(answer).toBeGreaterThan(40_000_000);
    for (let warm = 0; warm < 3; warm++) await graphql(url.href, query);
    const pid = started.child.pid ?? 0;
    const before = rss(pid);
    for (let client = 0; client < 50; client++) sockets.push(await neverReading(url, query));
    // Let every request run and write what its socket takes; then the gateway is idle, waiting on drains.
    let settled = rss(pid);
    for (let round = 0; round < 10; round++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = rss(pid);
      if (Math.abs(now - settled) < 2 * 1024 * 1024) break;
      settled = now;
    }
    const grown = rss(pid) - before;
    console.info(
      `50 non-reading clients, ${(answer / 1e6).toFixed(1)} MB answers: RSS ${(before / 1e6).toFixed(0)} MB -> ` +
        `${((before + grown) / 1e6).toFixed(0)} MB (+${(grown / 1e6).toFixed(1)} MB; 50 answers are ${((50 * answer) / 1e6).toFixed(0)} MB)`,
    );
    // Held whole, 50 answers are 2 GB; a socket buffer's worth each is a few MB in all, plus
    // garbage the collector has not taken yet (measured: +1 MB on Node 20, +26 MB on Node 26).
    expect(grown).toBeLessThan((50 * answer) / 10);
    // The gateway still answers others.
    expect((await fetch(new URL('/health', url))).status).toBe(200);
    for (const socket of sockets.splice(0)) socket.destroy();
  }, 60_000);
});

describe('large answers being written: bounded together, and cut off when their client stalls', () => {
  let started: Started;
  let url: URL;
  beforeAll(async () => {
    started = startProcess('src/main.ts', {
      PORT: '0',
      LOCAL_BACKEND_STORE: 'memory',
      MAX_RESPONSE_BYTES: String(32 * 1024 * 1024),
      MAX_ANSWER_BYTES_IN_FLIGHT: String(32 * 1024 * 1024),
      ANSWER_STALL_MS: '500',
    });
    const [, address] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    url = new URL(address ?? '');
  }, 30_000);
  afterAll(() => started.child.kill('SIGKILL'));

  it('refuses a second 24 MB answer with SERVER_BUSY while a client that never reads holds one; its stall frees it', async () => {
    const threadId = await seedOverHttp(url.href, 30, 100_000);
    const aliases = Array.from({ length: 8 }, (_, index) => `t${index}: text`).join(' ');
    const query = `{ thread(id: "${threadId}") { messages(first: 30) { nodes { ${aliases} } } } }`;
    // 24 MB, far more than loopback's socket buffers take: the first client's answer stays in flight.
    expect(JSON.stringify(await graphql(url.href, query)).length).toBeGreaterThan(24_000_000);
    const stalled = await neverReading(url, query);
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    // The gateway resets it: the unread answer is discarded.
    stalled.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const busy = await graphql(url.href, query);
    expect((busy.errors as Array<{ extensions: { code: string } }>)[0]?.extensions.code).toBe('SERVER_BUSY');
    // 500 ms without a piece taken: the stalled answer is cut off, its connection closed, its share
    // given back. (A paused socket notices the close once it reads again.)
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stalled.resume();
    await closed;
    const served = await graphql(url.href, query);
    expect(served.errors).toBeUndefined();
  }, 60_000);
});

describe('a gateway process under big answers', () => {
  let started: Started;
  let url: URL;
  beforeAll(async () => {
    started = startProcess('src/main.ts', { PORT: '0', LOCAL_BACKEND_STORE: 'memory', LOG_LEVEL: 'info' });
    const [, address] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    url = new URL(address ?? '');
  }, 30_000);
  afterAll(() => {
    started.child.kill('SIGKILL');
  });

  it('answers /health promptly (p99) while the largest answers the limits allow are built', async () => {
    const wide = await seedOverHttp(url.href, 100, 10_000);
    const narrow = await seedOverHttp(url.href, 100, 100);
    // About 8 MB of text (just under MAX_RESPONSE_BYTES), and 40,303 fields (just under MAX_RESULT_NODES).
    const eight = Array.from({ length: 8 }, (_, index) => `t${index}: text`).join(' ');
    const bytesQuery = `{ thread(id: "${wide}") { messages(first: 100) { nodes { ${eight} } } } }`;
    const nodesQuery = `{ thread(id: "${narrow}") { messages(first: 100) { nodes { thread { messages(first: 100) { nodes { t0: text t1: text t2: text t3: text } } } } } } }`;
    const first = await graphql(url.href, bytesQuery);
    expect(first.errors).toBeUndefined();
    expect(JSON.stringify(first).length).toBeGreaterThan(8_000_000);
    expect((await graphql(url.href, nodesQuery)).errors).toBeUndefined();
    // The machine is shared: what /health takes with the gateway idle is the floor of what it can take.
    const idle = await healthLatencies(url, 10, 2_000);
    // The clients run in a process of their own, so reading 8 MB answers does not slow the probes:
    // two on each query, and one sending the query (refused now; 500 MB built before).
    const queries = [bytesQuery, bytesQuery, nodesQuery, nodesQuery, nested(wide)];
    const clients = spawn(process.execPath, ['--input-type=module', '-e', LOAD], {
      env: { PATH: process.env.PATH ?? '', URL: url.href, QUERIES: JSON.stringify(queries) },
      stdio: 'ignore',
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const loaded = await healthLatencies(url, 10, 4_000);
      const p99 = (latencies: number[]) => latencies[Math.floor(latencies.length * 0.99)] ?? Number.POSITIVE_INFINITY;
      console.info(
        `/health p99: idle ${p99(idle).toFixed(1)} ms (${idle.length} requests), ` +
          `under the largest answers ${p99(loaded).toFixed(1)} ms (${loaded.length} requests, max ${loaded.at(-1)?.toFixed(1)} ms)`,
      );
      // The target is 100 ms; on a shared 2-core machine the gateway's own 40-70 ms of executing a
      // 40,000-field answer stretch to a few hundred while other processes hold the cores, so the
      // bound is 1 s. An answer built as one string (500 MB for the query) held the loop for
      // 29 s here.
      expect(p99(loaded)).toBeLessThan(1_000);
    } finally {
      clients.kill('SIGKILL');
    }
  }, 90_000);
});
