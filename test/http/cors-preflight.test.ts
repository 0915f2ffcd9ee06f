import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * CORS preflights go through the door like any request: a Host that is not served and a path that
 * is not GraphQL's are refused as a POST would be, and only the GraphQL route answers a preflight,
 * with the headers its policy gives the Origin. Driven over real HTTP, with the Host as sent.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function ask(base: string, path: string, method: string, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'content-type, authorization',
});

describe('CORS preflights through the door', () => {
  let upstream: TestUpstream;
  let open: Gateway;
  let listed: Gateway;
  let local: Gateway;
  let localServed: Awaited<ReturnType<typeof serveGateway>>;
  let openServed: Awaited<ReturnType<typeof serveGateway>>;
  let listedServed: Awaited<ReturnType<typeof serveGateway>>;

  beforeAll(async () => {
    upstream = await startTestUpstream();
    // A gateway whose callers bring their own keys answers any origin; bound to loopback, it serves
    // only loopback Hosts (DNS rebinding).
    open = testGateway({ OPENAI_BASE_URL: upstream.url, HOST: '127.0.0.1' });
    listed = testGateway({
      OPENAI_API_KEY: 'sk-cors',
      OPENAI_BASE_URL: upstream.url,
      HOST: '127.0.0.1',
      CORS_ORIGINS: 'https://app.example',
    });
    // The embedded local backend: its threads and model are the operator's, not a caller's.
    local = testGateway({ HOST: '127.0.0.1' });
    openServed = await serveGateway(open);
    listedServed = await serveGateway(listed);
    localServed = await serveGateway(local);
  });
  afterAll(() => closeAll(openServed, listedServed, localServed, open, listed, local, upstream));

  it('answers a preflight to /graphql with the GraphQL route’s methods, the asked headers and a max age', async () => {
    const before = upstream.seen.length;
    const answer = await ask(openServed.url, '/graphql', 'OPTIONS', preflight('https://chat.example'));
    expect(answer.status).toBe(204);
    expect(answer.body).toBe('');
    expect(answer.headers['access-control-allow-origin']).toBe('https://chat.example');
    expect(answer.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, authorization');
    expect(answer.headers['access-control-max-age']).toBe('600');
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(answer.headers.vary)).toMatch(/\bOrigin\b/);
    expect(String(answer.headers.vary)).toMatch(/\bAccess-Control-Request-Headers\b/);
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses a preflight from a Host that is not served, as it refuses the POST (421)', async () => {
    for (const method of ['OPTIONS', 'POST']) {
      const answer = await ask(openServed.url, '/graphql', method, {
        ...preflight('http://rebound.example'),
        host: 'rebound.example',
        accept: 'application/json',
      });
      expect(answer.status, method).toBe(421);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('MISDIRECTED_REQUEST');
    }
  });

  it.each(['/graphql/', '/api/graphql', '/x', '/GRAPHQL'])('a preflight to %s is the router’s 404', async (path) => {
    const answer = await ask(openServed.url, path, 'OPTIONS', { ...preflight('https://chat.example'), accept: '*/*' });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it.each(['/health', '/ready', '/metrics'])(
    'a preflight to %s is 405: only GraphQL is called by pages',
    async (path) => {
      const answer = await ask(openServed.url, path, 'OPTIONS', {
        ...preflight('https://chat.example'),
        accept: '*/*',
      });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET');
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
    },
  );

  it('where callers bring their own keys, an answer without Origin still varies by Origin', async () => {
    const url = new URL(openServed.url);
    const answer = await fetch(`${url.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('the local backend admits no other origin unless CORS_ORIGINS names it', async () => {
    const answer = await ask(localServed.url, '/graphql', 'OPTIONS', preflight('https://some-site.example'));
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    const url = new URL(localServed.url);
    const read = await fetch(`${url.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', origin: 'https://some-site.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(read.status).toBe(403);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    // A page of the gateway's own origin (GraphiQL) is served as before.
    const own = await fetch(`${url.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', origin: url.origin, 'sec-fetch-site': 'same-origin' },
    });
    expect(await own.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('with CORS_ORIGINS: the listed origin exactly, without credentials; any other none', async () => {
    const allowed = await ask(listedServed.url, '/graphql', 'OPTIONS', preflight('https://app.example'));
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(allowed.headers.vary)).toMatch(/\bOrigin\b/);

    const other = await ask(listedServed.url, '/graphql', 'OPTIONS', preflight('https://evil.example'));
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('the request after the preflight carries the origin, not the preflight’s headers', async () => {
    const url = new URL(listedServed.url);
    const answer = await fetch(`${url.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: 'https://app.example', accept: 'application/json' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-allow-methods')).toBeNull();
    expect(answer.headers.get('access-control-max-age')).toBeNull();
    expect(await answer.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
