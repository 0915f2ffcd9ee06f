import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { CreateThreadDocument, GetThreadDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { type Handler, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

async function ready(gateway: Gateway): Promise<{ status: number; body: { ready: boolean; upstream: string } }> {
  const response = await gateway.yoga.fetch('http://gateway.test/ready');
  return { status: response.status, body: (await response.json()) as { ready: boolean; upstream: string } };
}

describe('recognising an upstream that does not serve the Threads API', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  async function against(handler: Handler, env: Record<string, string> = {}): Promise<Gateway> {
    upstream = await startTestUpstream(handler, { handleProbes: true });
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, ...env });
    return gateway;
  }

  it('is ready on the local backend, in-process', async () => {
    gateway = testGateway();
    expect(await ready(gateway)).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('is ready on a Threads server over HTTP, and the probe creates nothing', async () => {
    await against(() => ({ forward: true }));
    expect((await ready(gateway)).status).toBe(200);
    expect(upstream.count('POST')).toBe(0);
    expect(upstream.store.threadCount).toBe(0);
  });

  it('is ready on a Threads server whose errors are {"detail": …} (not OpenAI-shaped)', async () => {
    await against((request) =>
      /^\/v1\/threads\/[A-Za-z0-9_-]+$/.test(request.path)
        ? { status: 404, body: { detail: 'Thread not found' } }
        : { status: 404, body: { detail: 'Not Found' } },
    );
    expect((await ready(gateway)).status).toBe(200);
  });

  const wrongUpstreams: Array<[string, Handler]> = [
    [
      'a server that answers 404 to every path (HTML)',
      () => ({ status: 404, body: '<html><h1>Not Found</h1></html>' }),
    ],
    [
      'a JSON API without threads (same 404 for every path)',
      (request) => ({ status: 404, body: { detail: 'Not Found', path: request.path } }),
    ],
    [
      'a host whose Assistants API was shut down (same error for all of /threads)',
      () => ({
        status: 404,
        body: {
          error: { message: 'This API has been shut down.', type: 'invalid_request_error', param: null, code: 'gone' },
        },
      }),
    ],
    ['a host answering 410 Gone', () => ({ status: 410, body: { error: { message: 'gone' } } })],
    ['a single-page app answering 200 HTML everywhere', () => ({ status: 200, body: '<!doctype html><div id=root>' })],
  ];
  for (const [name, handler] of wrongUpstreams) {
    it(`answers /ready 503 for ${name}, creates nothing, and never returns null threads`, async () => {
      await against(handler);
      const verdict = await ready(gateway);
      expect(verdict.status).toBe(503);
      expect(verdict.body.ready).toBe(false);
      const read = await execute(gateway, GetThreadDocument, { id: 'thread_abc' });
      expect(read.data?.thread ?? null).toBeNull();
      expect(codes(read)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(codes(await execute(gateway, CreateThreadDocument, {}))).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(upstream.count('POST')).toBe(0);
    });
  }

  it('answers 503 when the upstream cannot be reached, and recovers when it serves threads again', async () => {
    let healthy = false;
    await against(() => (healthy ? { forward: true } : { status: 404, body: 'nothing here' }));
    expect((await ready(gateway)).status).toBe(503);
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await ready(gateway)).status).toBe(200);
    const created = await execute(gateway, CreateThreadDocument, {});
    expect(created.errors).toBeUndefined();
  });

  it('answers 503 when the server key is refused', async () => {
    await against(() => ({ status: 401, body: { error: { message: 'bad key sk-te***' } } }));
    const verdict = await ready(gateway);
    expect(verdict.status).toBe(503);
    expect(JSON.stringify(verdict.body)).not.toContain('sk-te');
  });

  it('is ready in pass-through mode when the upstream wants each caller’s key', async () => {
    upstream = await startTestUpstream(() => ({ status: 401, body: { error: { message: 'no key' } } }), {
      handleProbes: true,
    });
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    expect((await ready(gateway)).status).toBe(200);
    expect(
      upstream.probes.every(
        (probe) => probe.headers.authorization === undefined || !probe.headers.authorization.includes('sk-'),
      ),
    ).toBe(true);
  });

  it('serves /health as liveness without touching the upstream', async () => {
    await against(() => 'hang');
    const response = await gateway.yoga.fetch('http://gateway.test/health');
    expect(response.status).toBe(200);
    expect(upstream.seen).toHaveLength(0);
  });
});
