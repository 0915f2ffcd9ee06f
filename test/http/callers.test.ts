import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { CreateThreadDocument, GetThreadDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

const SERVER_KEY = 'sk-proj-SERVERKEY0123456789abcdef';

describe('keys and callers', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('pass-through: a request without a bearer key is 401 UNAUTHENTICATED and makes no upstream call', async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    const result = await execute(gateway, CreateThreadDocument, {});
    expect(result.status).toBe(401);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(upstream.seen).toHaveLength(0);
  });

  it('pass-through: concurrent callers asking for one thread each reach the upstream with their own key', async () => {
    upstream = await startTestUpstream(async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      return { forward: true };
    });
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    const id = (await upstream.store.createThread({})).id;
    const [alice, bob] = await Promise.all([
      execute(gateway, GetThreadDocument, { id }, { authorization: 'Bearer sk-alice-key-0001' }),
      execute(gateway, GetThreadDocument, { id }, { authorization: 'Bearer sk-bob-key-0002' }),
    ]);
    expect(alice.data?.thread?.id).toBe(id);
    expect(bob.data?.thread?.id).toBe(id);
    const keys = upstream.seen.map((request) => request.headers.authorization).sort();
    expect(keys).toEqual(['Bearer sk-alice-key-0001', 'Bearer sk-bob-key-0002']);
  });

  it('pass-through: the caller’s key reaches the upstream for writes, and nothing else does', async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    await execute(gateway, CreateThreadDocument, {}, { authorization: 'Bearer sk-carol-key-0003' });
    expect(upstream.seen.map((request) => request.headers.authorization)).toEqual(['Bearer sk-carol-key-0003']);
  });

  it('gateway tokens guard the server key; the upstream only ever sees the server key', async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: upstream.url, GATEWAY_TOKENS: 'tok-1,tok-2' });
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic dG9rLTE=' }] as Record<
      string,
      string
    >[]) {
      const refused = await execute(gateway, CreateThreadDocument, {}, headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
    }
    expect(upstream.seen).toHaveLength(0);
    const allowed = await execute(gateway, CreateThreadDocument, {}, { authorization: 'Bearer tok-2' });
    expect(allowed.errors).toBeUndefined();
    expect(upstream.seen.map((request) => request.headers.authorization)).toEqual([`Bearer ${SERVER_KEY}`]);
  });

  it('gateway tokens leave the GraphiQL page, /health and /ready open', async () => {
    upstream = await startTestUpstream();
    gateway = testGateway({ OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: upstream.url, GATEWAY_TOKENS: 'tok-1' });
    const page = await gateway.yoga.fetch('http://gateway.test/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await gateway.yoga.fetch('http://gateway.test/health')).status).toBe(200);
    expect((await gateway.yoga.fetch('http://gateway.test/ready')).status).toBe(200);
  });

  it('never shows a key, or part of one, in a response or a log line', async () => {
    const lines: string[] = [];
    upstream = await startTestUpstream(() => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${SERVER_KEY}. ${SERVER_KEY.slice(0, 10)}` } },
    }));
    gateway = testGateway(
      { OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: upstream.url, LOG_LEVEL: 'debug' },
      { logger: createLogger('debug', [SERVER_KEY], (line) => lines.push(line)) },
    );
    const result = await execute(gateway, GetThreadDocument, { id: 'thread_x' });
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    const everything = JSON.stringify(result) + lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const part of [SERVER_KEY, SERVER_KEY.slice(0, 10), SERVER_KEY.slice(-8)]) {
      expect(everything).not.toContain(part);
    }
  });
});
