import { gzipSync } from 'node:zlib';
import { getIntrospectionQuery } from 'graphql';
import { serverAudits } from 'graphql-http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { GetThreadsDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

async function post(gateway: Gateway, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>) {
  const init: RequestInit & { duplex?: string } = { method: 'POST', headers, body, duplex: 'half' };
  const response = await gateway.yoga.fetch('http://gateway.test/graphql', init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

describe('limits on the request itself', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  beforeEach(async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
  });
  afterEach(() => closeAll(gateway, upstream));

  const aliases = (count: number) =>
    `{ ${Array.from({ length: count }, (_, i) => `a${i}: thread(id: "thread_${i % 10}") { id }`).join(' ')} }`;

  it('refuses a 500-alias query before any upstream call', async () => {
    const before = upstream.seen.length;
    const result = await execute(gateway, aliases(500));
    // Whichever limit trips first (500 aliases are also ~5,000 tokens), nothing runs.
    expect(['TOO_MANY_ALIASES', 'QUERY_TOO_LARGE']).toContain(codes(result)[0]);
    expect(result.data ?? null).toBeNull();
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses more than MAX_ALIASES aliases even in a small document', async () => {
    const result = await execute(
      gateway,
      `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: thread(id: "t") { id }`).join(' ')} }`,
    );
    expect(codes(result)).toEqual(['TOO_MANY_ALIASES']);
    // Every alias counts, __typename's too (GraphQL Armor leaves those out unless told).
    const typenames = await execute(
      gateway,
      `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
    );
    expect(codes(typenames)).toEqual(['TOO_MANY_ALIASES']);
  });

  it('refuses a 20,000-token document before any upstream call', async () => {
    const before = upstream.seen.length;
    const fields = Array.from({ length: 5000 }, () => '__typename').join(' ');
    const result = await execute(gateway, `{ ${fields} }`);
    expect(codes(result)).toEqual(['QUERY_TOO_LARGE']);
    expect(upstream.seen.length).toBe(before);
  });

  it('admits the 50-alias query and GraphiQL’s introspection', async () => {
    expect((await execute(gateway, aliases(50))).errors).toBeUndefined();
    const introspection = await execute(
      gateway,
      getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }),
    );
    expect(introspection.errors).toBeUndefined();
  });

  it('refuses a few aliases of threads(ids: $v) that fan out past MAX_UPSTREAM_CALLS, before any call', async () => {
    const before = upstream.seen.length;
    const ids = (offset: number) => Array.from({ length: 100 }, (_, i) => `thread_${offset + i}`);
    const result = await execute(
      gateway,
      'query($a: [ID!]!, $b: [ID!]!, $c: [ID!]!) { a: threads(ids: $a) { id } b: threads(ids: $b) { id } c: threads(ids: $c) { id } }',
      { a: ids(0), b: ids(100), c: ids(200) },
    );
    expect(codes(result)).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(result.errors?.[0]?.extensions).toMatchObject({ limit: 200, requested: 300 });
    expect(upstream.seen.length).toBe(before);
  });

  it('counts ids given as a variable’s default in the document, refusing before any call', async () => {
    const capped = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, MAX_UPSTREAM_CALLS: '10' });
    const before = upstream.seen.length;
    const ids = Array.from({ length: 6 }, (_, i) => `"thread_${i}"`).join(', ');
    const result = await execute(
      capped,
      `query($ids: [ID!]! = [${ids}], $n: Int = 1) { threads(ids: $ids) { messages(first: $n) { nodes { id } } } }`,
    );
    expect(codes(result)).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(result.errors?.[0]?.extensions).toMatchObject({ limit: 10, requested: 12 });
    expect(upstream.seen.length).toBe(before);
    await capped.close();
  });

  it('stops at the cap when the document cannot show the count up front', async () => {
    const capped = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, MAX_UPSTREAM_CALLS: '5' });
    const before = upstream.seen.length;
    // Every GET fails with 500 and is retried twice: 3 ids x 3 attempts would be 9 calls.
    upstream.handler = (request) => (request.method === 'GET' ? { status: 500 } : { forward: true });
    const result = await execute(capped, GetThreadsDocument, { ids: ['thread_a', 'thread_b', 'thread_c'] });
    upstream.handler = () => ({ forward: true });
    expect(upstream.seen.length - before).toBe(5);
    expect(codes(result)).toContain('UPSTREAM_CALL_LIMIT');
    await capped.close();
  });

  it('answers 413 for a body over MAX_BODY_BYTES, declared or streamed', async () => {
    const big = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(1024 * 1024)}` });
    const declared = await post(gateway, big, {
      'content-type': 'application/json',
      'content-length': String(big.length),
    });
    expect(declared.status).toBe(413);
    expect(declared.json.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
          controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
        controller.close();
      },
    });
    const streamed = await post(gateway, stream, { 'content-type': 'application/json' });
    expect(streamed.status).toBe(413);
    expect(streamed.json.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers malformed JSON with 400 and a coded GraphQL error body', async () => {
    const result = await post(gateway, '{"query": ', { 'content-type': 'application/json' });
    expect(result.status).toBe(400);
    expect(result.json.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('refuses a mutation over GET with 405 METHOD_NOT_ALLOWED, and serves GET queries', async () => {
    const mutation = await gateway.yoga.fetch(
      `http://gateway.test/graphql?query=${encodeURIComponent('mutation { createThread { id } }')}`,
      { headers: { accept: 'application/json' } },
    );
    expect(mutation.status).toBe(405);
    expect(
      ((await mutation.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
    ).toBe('METHOD_NOT_ALLOWED');
    const query = await gateway.yoga.fetch(
      `http://gateway.test/graphql?query=${encodeURIComponent('{ __typename }')}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers a request that accepts no answer type with 406 and a coded body', async () => {
    const response = await gateway.yoga.fetch(
      `http://gateway.test/graphql?query=${encodeURIComponent('{ __typename }')}`,
      {
        headers: { accept: 'application/xml' },
      },
    );
    expect(response.status).toBe(406);
    expect(
      ((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
    ).toBe('NOT_ACCEPTABLE');
  });

  it('codes parse errors, validation errors and masked errors', async () => {
    expect(codes(await execute(gateway, '{ thread(id: "x") { id '))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(await execute(gateway, '{ nope }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes(await execute(gateway, 'query($id: ID!) { thread(id: $id) { id } }', { id: { no: 1 } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('refuses a compressed body, or one labelled so, with 415 naming the encoding; identity is read', async () => {
    const json = JSON.stringify({ query: 'mutation { createThread { id } }' });
    const bodies: Array<[string, string]> = [
      ['gzip', gzipSync(json).toString('latin1')],
      ['gzip', json],
      ['br, gzip', json],
    ];
    for (const [coding, body] of bodies) {
      const result = await post(gateway, body, { 'content-type': 'application/json', 'content-encoding': coding });
      expect(result.status).toBe(415);
      expect(result.json.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(result.json.errors[0].message).toContain(`"${coding}"`);
    }
    expect(upstream.count('POST')).toBe(0);
    for (const coding of ['identity', '']) {
      const plain = await post(gateway, json, { 'content-type': 'application/json', 'content-encoding': coding });
      expect(plain.json.data.createThread.id).toMatch(/^thread_/);
    }
  });
});

describe('cross-site requests', () => {
  let gateway: Gateway;
  beforeEach(() => {
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  });

  const simple: Array<[string, string]> = [
    ['application/x-www-form-urlencoded', 'query=mutation%7BcreateThread%7Bid%7D%7D'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\nmutation{createThread{id}}\r\n--x--',
    ],
    ['text/plain', JSON.stringify({ query: 'mutation { createThread { id } }' })],
    ['', JSON.stringify({ query: 'mutation { createThread { id } }' })],
  ];
  for (const [type, body] of simple) {
    it(`refuses a ${type || 'type-less'} POST with 415, running nothing`, async () => {
      const headers: Record<string, string> = { origin: 'https://evil.example' };
      if (type) headers['content-type'] = type;
      const result = await post(gateway, body, headers);
      expect(result.status).toBe(415);
      expect(result.json.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(result.headers.get('access-control-allow-origin')).toBeNull();
    });
  }

  it('allows no origin when the gateway holds a server key and CORS_ORIGINS is unset', async () => {
    const preflight = await gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the configured CORS_ORIGINS, without credentials', async () => {
    const configured = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      CORS_ORIGINS: 'https://app.example,https://admin.example',
    });
    const ask = (origin: string) =>
      configured.yoga.fetch('http://gateway.test/graphql', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await ask('https://admin.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(allowed.headers.get('access-control-allow-credentials')).not.toBe('true');
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    // The answers depend on the Origin: a shared cache must key on it (POST and GET alike).
    for (const init of [
      { method: 'POST', body: '{"query":"{ __typename }"}', headers: { 'content-type': 'application/json' } },
      { method: 'GET' },
    ]) {
      const url =
        init.method === 'GET' ? 'http://gateway.test/graphql?query=%7B__typename%7D' : 'http://gateway.test/graphql';
      const answer = await configured.yoga.fetch(url, {
        ...init,
        headers: { ...init.headers, origin: 'https://app.example', accept: 'application/json' },
      });
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(answer.headers.get('vary')).toMatch(/\borigin\b/i);
    }
  });

  it('passes the GraphQL-over-HTTP audit (graphql-http serverAudits, MUST and SHOULD)', async () => {
    const local = testGateway();
    const audits = serverAudits({
      url: 'http://gateway.test/graphql',
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => local.yoga.fetch(new Request(input, init)),
    });
    const failures: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status !== 'ok') failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(failures).toEqual([]);
  });
});
