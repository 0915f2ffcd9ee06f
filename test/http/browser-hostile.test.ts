import { request as httpRequest } from 'node:http';
import { brotliDecompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

/** One raw request with an exact Host header (fetch would not let a test set it). */
function get(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const QUERY = `/graphql?query=${encodeURIComponent('{ __typename }')}`;

describe('DNS rebinding: only allowed Host values are served', () => {
  let served: Awaited<ReturnType<typeof serveGateway>> | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await served?.close();
    await gateway?.close();
    served = undefined;
  });

  async function start(env: Record<string, string>) {
    gateway = testGateway(env);
    served = await serveGateway(gateway);
    return served.url;
  }

  it('on loopback without tokens: the bound host and localhost only, before any GraphQL', async () => {
    const url = await start({ OPENAI_API_KEY: 'sk-rebind', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `LOCALHOST:${port}`]) {
      expect((await get(url, QUERY, { host, accept: 'application/json' })).status, host).toBe(200);
    }
    for (const host of [`rebind.attacker.example:${port}`, 'attacker.example', `127.0.0.1.nip.io:${port}`]) {
      const refused = await get(url, QUERY, { host, accept: 'application/json' });
      expect(refused.status, host).toBe(421);
      expect(JSON.parse(refused.body.toString()).errors[0].extensions.code).toBe('MISDIRECTED_REQUEST');
      // Not GraphiQL, not metrics either.
      expect((await get(url, '/metrics', { host })).status).toBe(421);
      expect((await get(url, '/graphql', { host, accept: 'text/html' })).status).toBe(421);
    }
  });

  it('ALLOWED_HOSTS replaces the defaults', async () => {
    const url = await start({ ALLOWED_HOSTS: 'threads.internal,api.example.com:8443' });
    expect((await get(url, QUERY, { host: 'threads.internal:4000', accept: 'application/json' })).status).toBe(200);
    expect((await get(url, QUERY, { host: 'api.example.com:8443', accept: 'application/json' })).status).toBe(200);
    expect((await get(url, QUERY, { host: 'api.example.com:9999', accept: 'application/json' })).status).toBe(421);
    expect((await get(url, QUERY, { host: 'localhost', accept: 'application/json' })).status).toBe(421);
  });

  it('with gateway tokens any Host is served (the token is the guard)', async () => {
    const url = await start({
      OPENAI_API_KEY: 'sk-rebind',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      GATEWAY_TOKENS: 't1',
    });
    const answer = await get(url, QUERY, {
      host: 'anything.example',
      accept: 'application/json',
      authorization: 'Bearer t1',
    });
    expect(answer.status).toBe(200);
  });
});

describe('GraphiQL: compressed, cacheable, and can be turned off', () => {
  it('serves the page compressed with an ETag, and 304 when the browser has it', async () => {
    const gateway = testGateway();
    const served = await serveGateway(gateway);
    try {
      const first = await get(served.url, '/graphql', { accept: 'text/html', 'accept-encoding': 'gzip, br' });
      expect(first.status).toBe(200);
      expect(first.headers['content-encoding']).toBe('br');
      const html = brotliDecompressSync(first.body).toString('utf8');
      expect(html).toContain('<html');
      // Compressed to well under half of the page.
      expect(first.body.byteLength).toBeLessThan(Buffer.byteLength(html) / 3);
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const again = await get(served.url, '/graphql', { accept: 'text/html', 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.body.byteLength).toBe(0);
    } finally {
      await served.close();
    }
  });

  it('GRAPHIQL=false: a browser GET is a GraphQL request like any other, and runs nothing without a token', async () => {
    const gateway = testGateway({
      GRAPHIQL: 'false',
      OPENAI_API_KEY: 'sk-x',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      GATEWAY_TOKENS: 't1',
    });
    const page = await gateway.yoga.fetch('http://gateway.test/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).not.toBe(200);
    expect(await page.text()).not.toContain('<html');
    const anonymous = await gateway.yoga.fetch(`http://gateway.test${QUERY}`, {
      headers: { accept: 'text/html, */*' },
    });
    expect(anonymous.status).toBe(401);
  });
});

describe('metrics: the operation label', () => {
  it('METRICS_OPERATIONS pins the named operations; first-come names cannot claim label slots', async () => {
    const gateway = testGateway({ METRICS_OPERATIONS: 'ReadThread,CreateThread' });
    for (let index = 0; index < 20; index++) await execute(gateway, `query Junk${index} { __typename }`);
    await execute(gateway, 'query ReadThread { __typename }');
    const text = await (await gateway.yoga.fetch('http://gateway.test/metrics')).text();
    const labels = new Set([...text.matchAll(/graphql_requests_total\{operation="([^"]+)"/g)].map((match) => match[1]));
    expect([...labels].sort()).toEqual(['ReadThread', 'other']);
  });

  it('names only operations that validated and ran', async () => {
    const gateway = testGateway();
    await execute(gateway, 'query NeverValid { noSuchField }');
    await execute(gateway, 'query Ran { __typename }');
    const text = await (await gateway.yoga.fetch('http://gateway.test/metrics')).text();
    expect(text).not.toContain('operation="NeverValid"');
    expect(text).toContain('operation="Ran"');
  });
});

describe('cross-site simple requests: a page cannot spend the server key with an <img> or a link', () => {
  it('refuses a GraphQL request a browser marks cross-site, unless CORS admits its origin', async () => {
    const guarded = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const served = await serveGateway(guarded);
    const { host } = new URL(served.url);
    const crossSite = await get(served.url, QUERY, { host, accept: '*/*', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body.toString('utf8')).errors[0].extensions.code).toBe('FORBIDDEN');
    // The same request from the page itself, from a tool, or from an admitted origin runs.
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, {}] as Array<Record<string, string>>) {
      expect((await get(served.url, QUERY, { host, accept: '*/*', ...headers })).status).toBe(200);
    }
    await served.close();
    await guarded.close();
    const open = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      CORS_ORIGINS: 'https://app.example',
    });
    const admitted = await serveGateway(open);
    const headers = { host: new URL(admitted.url).host, accept: '*/*', 'sec-fetch-site': 'cross-site' };
    expect((await get(admitted.url, QUERY, { ...headers, origin: 'https://app.example' })).status).toBe(200);
    expect((await get(admitted.url, QUERY, { ...headers, origin: 'https://evil.example' })).status).toBe(403);
    await admitted.close();
    await open.close();
  });
});
