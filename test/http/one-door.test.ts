import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * One door: every request Yoga would execute passes the same guards, whatever its path spelling,
 * method, content type or accept header; every other path is a 404 before any GraphQL work. The
 * table is driven over raw HTTP (node:http keeps the path exactly as written), and every row is
 * compared with the exact `/graphql` path under the same conditions, so a guard keyed on any other
 * path test than the router's makes a row differ.
 */

const TOKEN = 'door-token';
const MUTATION = 'mutation { createThread(input: { metadata: { via: "door" } }) { id } }';
const QUERY = '{ thread(id: "thread_door") { id } }';

const SPELLINGS = [
  '/graphql/',
  '/graphql//',
  '//graphql',
  '/GraphQL',
  '/GRAPHQL',
  '/graphql%2F',
  '/%67raphql',
  '/some/prefix/graphql',
  '/some/prefix/graphql/',
  '/api/graphql',
  '/graphql;x',
  '/graphql.json',
  '/graphql%00',
  '/graphql/extra',
  '/x/..%2Fgraphql',
  '/health/graphql',
  '/metrics/graphql',
];

interface Shape {
  name: string;
  method: string;
  /** The query string (for GET); the body and its type otherwise. */
  query?: string;
  contentType?: string;
  body?: string;
  accept?: string;
}

const enc = encodeURIComponent;
const SHAPES: Shape[] = [
  { name: 'GET query', method: 'GET', query: `?query=${enc(QUERY)}` },
  { name: 'GET mutation', method: 'GET', query: `?query=${enc(MUTATION)}` },
  { name: 'GET SSE', method: 'GET', query: `?query=${enc(QUERY)}`, accept: 'text/event-stream' },
  { name: 'GET query, text/html', method: 'GET', query: `?query=${enc(QUERY)}`, accept: 'text/html' },
  { name: 'GET, query string ends in /graphql', method: 'GET', query: `?query=${enc(QUERY)}&x=/graphql` },
  { name: 'POST json', method: 'POST', contentType: 'application/json', body: JSON.stringify({ query: MUTATION }) },
  {
    name: 'POST json, SSE',
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify({ query: MUTATION }),
    accept: 'text/event-stream',
  },
  {
    name: 'POST graphql+json',
    method: 'POST',
    contentType: 'application/graphql+json',
    body: JSON.stringify({ query: MUTATION }),
  },
  {
    name: 'POST form',
    method: 'POST',
    contentType: 'application/x-www-form-urlencoded',
    body: `query=${enc(MUTATION)}`,
  },
  { name: 'POST text/plain', method: 'POST', contentType: 'text/plain', body: JSON.stringify({ query: MUTATION }) },
  { name: 'POST application/graphql', method: 'POST', contentType: 'application/graphql', body: MUTATION },
  { name: 'PUT json', method: 'PUT', contentType: 'application/json', body: JSON.stringify({ query: MUTATION }) },
  { name: 'PATCH json', method: 'PATCH', contentType: 'application/json', body: JSON.stringify({ query: MUTATION }) },
  { name: 'DELETE', method: 'DELETE', query: `?query=${enc(QUERY)}` },
];

interface Answer {
  status: number;
  body: string;
}

function send(base: string, path: string, shape: Shape, token?: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: shape.accept ?? 'application/json' };
    if (shape.contentType) headers['content-type'] = shape.contentType;
    if (token) headers.authorization = `Bearer ${token}`;
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: shape.method, path: `${path}${shape.query ?? ''}`, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(shape.body);
  });
}

describe('one door: every spelling, method, content type and accept header meets the same guards', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  /** What the exact path answers for each shape, without and with a token. */
  const exact = new Map<string, { anonymous: Answer; authorized: Answer }>();

  beforeAll(async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-door', OPENAI_BASE_URL: upstream.url, GATEWAY_TOKENS: TOKEN });
    served = await serveGateway(gateway);
    for (const shape of SHAPES) {
      exact.set(shape.name, {
        anonymous: await send(served.url, '/graphql', shape),
        authorized: await send(served.url, '/graphql', shape, TOKEN),
      });
    }
  });
  afterAll(() => closeAll(served, gateway, upstream));

  it('the exact path is guarded: no token never reaches the upstream, a token does', () => {
    for (const shape of SHAPES) {
      const answers = exact.get(shape.name);
      if (!answers) throw new Error(`no answer for ${shape.name}`);
      if (shape.accept === 'text/html') {
        // The GraphiQL page: a page, never an execution.
        expect(answers.anonymous.status).toBe(200);
        expect(answers.anonymous.body).toContain('<html');
      } else {
        expect([401, 405, 415, 406], shape.name).toContain(answers.anonymous.status);
      }
    }
    // The control rows: the same requests with a token do run (so the table can see an execution).
    expect(exact.get('POST json')?.authorized.status).toBe(200);
    expect(exact.get('POST json')?.authorized.body).toContain('"createThread"');
    expect(exact.get('GET query')?.authorized.status).toBe(200);
    expect(exact.get('POST form')?.authorized.status).toBe(415);
    expect(exact.get('GET mutation')?.authorized.status).toBe(405);
    expect(upstream.count('POST', /^\/v1\/threads$/)).toBe(2); // 'POST json' and 'POST json, SSE' with a token
  });

  describe.each(SPELLINGS)('%s', (path) => {
    it.each(SHAPES.map((shape) => [shape.name, shape] as const))(
      '%s: 404, or exactly what /graphql answers',
      async (_, shape) => {
        const before = upstream.seen.length;
        const anonymous = await send(served.url, path, shape);
        const authorized = await send(served.url, path, shape, TOKEN);
        const reference = exact.get(shape.name);
        // Node's URL parser may normalise a spelling to /graphql itself (e.g. dot segments): then it
        // must be guarded exactly like /graphql; anything else must be a 404 with a coded body.
        if (anonymous.status !== 404) {
          expect(anonymous.status).toBe(reference?.anonymous.status);
        } else {
          expect(JSON.parse(anonymous.body).errors[0].extensions.code).toBe('NOT_FOUND');
          expect(authorized.status).toBe(404);
        }
        // Nothing without a token ever reaches the upstream, whatever the spelling.
        expect(upstream.seen.slice(before).filter((r) => r.method === 'POST')).toHaveLength(
          authorized.status === 200 && shape.method === 'POST' && shape.contentType?.startsWith('application/') ? 1 : 0,
        );
      },
    );
  });
});

describe('one door: bodies on other paths are never read', () => {
  it('a 100 MB streamed body to /graphql/ is answered 404 after reading at most a few chunks', async () => {
    const gateway = testGateway();
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 100 * 1024 * 1024) controller.close();
        else {
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
        }
      },
    });
    const response = await gateway.yoga.fetch('http://gateway.test/graphql/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(404);
    expect(pulled).toBeLessThan(1024 * 1024);
  });
});

/** Writes one raw HTTP/1.1 request (node:http cannot send an absolute-form target or `*`). */
function rawRequest(base: string, text: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('end', () => {
      const [head = '', ...body] = answer.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: body.join('\r\n\r\n') });
    });
    socket.on('error', reject);
  });
}

describe('one door: request targets and Hosts that are not a URL', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: 'sk-door', OPENAI_BASE_URL: upstream.url });
    served = await serveGateway(gateway);
  });
  afterAll(() => closeAll(served, gateway, upstream));

  const query = encodeURIComponent(QUERY);
  it.each([
    [
      'an absolute-form target',
      (host: string) => `GET http://evil.example/graphql?query=${query} HTTP/1.1\r\nHost: ${host}`,
    ],
    [
      'an absolute-form target on another path',
      (host: string) => `GET http://evil.example/x?query=${query} HTTP/1.1\r\nHost: ${host}`,
    ],
    ['the asterisk target', (host: string) => `OPTIONS * HTTP/1.1\r\nHost: ${host}`],
    ['a Host that is not a host', () => `GET /graphql?query=${query} HTTP/1.1\r\nHost: [::1]evil.example`],
    // Hosts of the plain shapes, whose verdict the listener keeps (and `[::g]`, just outside them,
    // checked whole each time): still refused, the second time too.
    ['a Host with a port past 65535', () => `GET /graphql?query=${query} HTTP/1.1\r\nHost: 127.0.0.1:99999`],
    ['a Host that is no IPv4 address', () => `GET /graphql?query=${query} HTTP/1.1\r\nHost: 1.2.3.4.5`],
    ['a Host that is no IPv6 address', () => `GET /graphql?query=${query} HTTP/1.1\r\nHost: [::g]`],
    // Hosts that end the authority early would move the path the router sees: /health read as /metrics.
    ['a Host with a path', () => 'GET /health HTTP/1.1\r\nHost: gw.example/metrics?'],
    ['a Host with a backslash path', () => 'GET /health HTTP/1.1\r\nHost: gw.example\\metrics?'],
    ['a Host with a fragment', () => `GET /health HTTP/1.1\r\nHost: gw.example/graphql?query=${query}#`],
    ['a Host with userinfo', () => 'GET /health HTTP/1.1\r\nHost: user@gw.example'],
    // Dot segments: the URL parser would serve another path than the one a proxy routed on.
    ['a dot segment', (host: string) => `GET /./graphql?query=${query} HTTP/1.1\r\nHost: ${host}`],
    ['a dot-dot segment', (host: string) => `GET /x/../graphql?query=${query} HTTP/1.1\r\nHost: ${host}`],
    ['an encoded dot segment', (host: string) => `GET /%2e/graphql?query=${query} HTTP/1.1\r\nHost: ${host}`],
    ['an encoded dot-dot to /metrics', (host: string) => `GET /graphql/%2E%2e/metrics HTTP/1.1\r\nHost: ${host}`],
    ['a dot-dot to /ready', (host: string) => `GET /graphql/../ready HTTP/1.1\r\nHost: ${host}`],
    ['backslash dot-dot segments', (host: string) => `GET /x\\..\\graphql?query=${query} HTTP/1.1\r\nHost: ${host}`],
    ['a POST to a dot-dot path', (host: string) => `POST /x/../graphql HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0`],
  ])('%s is 400 with a coded body, no stack trace, nothing upstream', async (_, head) => {
    const before = upstream.seen.length;
    const host = new URL(served.url).host;
    for (const _time of ['first', 'again']) {
      const answer = await rawRequest(
        served.url,
        `${head(host)}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status).toBe(400);
      expect(answer.body).not.toMatch(/node_modules|at new URL|TypeError/);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    }
    expect(upstream.seen.length).toBe(before);
  });
});

describe('one door: /health is the router’s, behind the Host check', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    // No tokens, bound to loopback: only loopback names are served (DNS rebinding).
    gateway = testGateway({ OPENAI_API_KEY: 'sk-door', OPENAI_BASE_URL: upstream.url, HOST: '127.0.0.1' });
    served = await serveGateway(gateway);
  });
  afterAll(() => closeAll(served, gateway, upstream));

  function ask(path: string, { method = 'GET', host }: { method?: string; host?: string } = {}): Promise<Answer> {
    const url = new URL(served.url);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (host) headers.host = host;
      const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the gateway’s own {"ok": true} on /health', async () => {
    const answer = await ask('/health');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ok: true });
  });

  it.each(['/a/b/health', '/graphql/health', '/x?y=/health'])(
    '%s is the router’s 404, not an empty 200',
    async (path) => {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const answer = await ask(path, { method });
        expect(answer.status, `${method} ${path}`).toBe(404);
        expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('NOT_FOUND');
      }
    },
  );

  it('a GraphQL request whose query string ends in /health is a GraphQL request', async () => {
    const answer = await ask(`/graphql?query=${encodeURIComponent(QUERY)}&x=/health`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toHaveProperty('data');
  });

  it('a Host that is not allowed gets 421 on /health and on any path ending in /health', async () => {
    for (const path of ['/health', '/a/b/health', '/graphql?x=/health']) {
      const answer = await ask(path, { host: 'rebound.example' });
      expect(answer.status, path).toBe(421);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('MISDIRECTED_REQUEST');
    }
  });
});
