import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { chosenApi } from '../../src/upstream/detection/api-selection.ts';
import { CreateThreadDocument, GetThreadDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { type Handler, type SeenRequest, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

// UPSTREAM_API=auto against each kind of upstream, and the fixed choices against the wrong one.

/** What a server answers for a route it does not have: the same body for every such path. */
const noSuchRoute = {
  status: 404,
  body: { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } },
};

const servesOnly =
  (api: 'threads' | 'conversations'): Handler =>
  (request: SeenRequest) =>
    request.path.startsWith(`/v1/${api}`) ? { forward: true } : noSuchRoute;

async function ready(gateway: Gateway): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await gateway.yoga.fetch('http://gateway.test/ready');
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('UPSTREAM_API=auto', () => {
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
    upstream = undefined;
    gateway = undefined;
  });

  async function against(handler: Handler, env: Record<string, string> = {}): Promise<Gateway> {
    upstream = await startTestUpstream(handler, { handleProbes: true });
    gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, ...env });
    return gateway;
  }

  it('means conversations on OpenAI’s own host, without asking it', () => {
    const openai = loadConfig({ OPENAI_API_KEY: 'sk-a' });
    expect(openai.upstreamApi).toBe('auto');
    expect(chosenApi(openai.upstreamApi, openai.upstream)).toBe('conversations');
    const proxyOnOpenAI = loadConfig({ OPENAI_API_KEY: 'sk-a', OPENAI_BASE_URL: 'https://eu.api.openai.com/v1' });
    expect(chosenApi(proxyOnOpenAI.upstreamApi, proxyOnOpenAI.upstream)).toBe('conversations');
    gateway = testGateway({ OPENAI_API_KEY: 'sk-a' });
    expect(gateway.upstreamApiKind()).toBe('conversations');
    const elsewhere = loadConfig({ OPENAI_API_KEY: 'sk-a', OPENAI_BASE_URL: 'https://openai.com.example/v1' });
    expect(chosenApi(elsewhere.upstreamApi, elsewhere.upstream)).toBe('detect');
  });

  it('means threads on the embedded local backend (it serves both; threads carries every field)', async () => {
    gateway = testGateway();
    expect(gateway.upstreamApiKind()).toBe('threads');
    expect(await gateway.checkUpstream()).toMatchObject({ ok: true, api: 'threads' });
  });

  it('picks threads on a Threads-only server, and calls /threads', async () => {
    await against(servesOnly('threads'));
    expect(gateway?.upstreamApiKind()).toBeUndefined();
    expect((await ready(gateway as Gateway)).status).toBe(200);
    expect(gateway?.upstreamApiKind()).toBe('threads');
    const created = await execute(gateway as Gateway, CreateThreadDocument, { input: { toolResources: null } });
    expect(created.errors).toBeUndefined();
    expect(upstream?.count('POST', /^\/v1\/threads$/)).toBe(1);
    expect(upstream?.probes.every((probe) => probe.method === 'GET')).toBe(true);
  });

  it('picks conversations on a Conversations-only server, and calls /conversations', async () => {
    await against(servesOnly('conversations'));
    expect(await gateway?.checkUpstream()).toMatchObject({ ok: true, api: 'conversations' });
    expect(gateway?.upstreamApiKind()).toBe('conversations');
    const created = await execute(gateway as Gateway, CreateThreadDocument, { input: { metadata: { a: 'b' } } });
    expect(created.errors).toBeUndefined();
    expect(upstream?.count('POST', /^\/v1\/conversations$/)).toBe(1);
    const read = await execute(gateway as Gateway, GetThreadDocument, { id: created.data?.createThread.id ?? '' });
    expect(read.data?.thread).toMatchObject({ metadata: { a: 'b' }, toolResources: null });
    expect(upstream?.count('GET', /^\/v1\/threads/)).toBe(0);
    expect(upstream?.probes.every((probe) => probe.method === 'GET')).toBe(true);
  });

  it('picks conversations on a Conversations server that refuses an impossible id with 400', async () => {
    await against((request) =>
      /^\/v1\/conversations\/conv_gatewayreadinessprobe000$/.test(request.path)
        ? { status: 400, body: { error: { message: 'Invalid conversation id', param: 'conversation_id' } } }
        : servesOnly('conversations')(request, 0),
    );
    expect(await gateway?.checkUpstream()).toMatchObject({ ok: true, api: 'conversations' });
  });

  it('picks threads on a Threads server that answers 501 to routes it lacks', async () => {
    await against((request) =>
      request.path.startsWith('/v1/threads') && request.path.split('/').length <= 4
        ? { forward: true }
        : { status: 501, body: { detail: 'Not Implemented' } },
    );
    expect(await gateway?.checkUpstream()).toMatchObject({ ok: true, api: 'threads' });
  });

  it('picks threads on a server that serves both', async () => {
    await against(() => ({ forward: true }));
    expect(await gateway?.checkUpstream()).toMatchObject({ ok: true, api: 'threads' });
  });

  it('reports "not usable" for a server that speaks neither, and sends nothing', async () => {
    await against(() => noSuchRoute);
    const verdict = await ready(gateway as Gateway);
    expect(verdict.status).toBe(503);
    expect(await gateway?.checkUpstream()).toMatchObject({ ok: false, reason: 'no-known-api' });
    expect(gateway?.upstreamApiKind()).toBeUndefined();
    expect(codes(await execute(gateway as Gateway, CreateThreadDocument, {}))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(upstream?.seen).toHaveLength(0);
  });

  it('keeps probing until it knows: a server that comes to serve conversations is then used', async () => {
    let serving = false;
    await against((request) => (serving ? servesOnly('conversations')(request, 0) : noSuchRoute));
    expect((await ready(gateway as Gateway)).status).toBe(503);
    serving = true;
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await ready(gateway as Gateway)).status).toBe(200);
    expect(gateway?.upstreamApiKind()).toBe('conversations');
  });

  it('in pass-through mode, finds out with the first caller’s key when key-less probes get 401', async () => {
    upstream = await startTestUpstream(
      (request) =>
        /Bearer sk-caller/.test(request.headers.authorization ?? '')
          ? servesOnly('conversations')(request, 0)
          : { status: 401, body: { error: { message: 'no key' } } },
      { handleProbes: true },
    );
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    expect((await ready(gateway)).status).toBe(200);
    expect(gateway.upstreamApiKind()).toBeUndefined();
    const created = await execute(gateway, CreateThreadDocument, {}, { authorization: 'Bearer sk-caller' });
    expect(created.errors).toBeUndefined();
    expect(gateway.upstreamApiKind()).toBe('conversations');
    expect(upstream.count('POST', /^\/v1\/conversations$/)).toBe(1);
    expect(upstream.count('POST', /^\/v1\/threads/)).toBe(0);
  });

  it('in pass-through mode, a detection that failed with one caller’s bad key is that caller’s answer only', async () => {
    upstream = await startTestUpstream(
      (request) =>
        /Bearer sk-good/.test(request.headers.authorization ?? '')
          ? servesOnly('conversations')(request, 0)
          : { status: 401, body: { error: { message: 'bad key' } } },
      { handleProbes: true },
    );
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    const as = (key: string) =>
      execute(gateway as Gateway, CreateThreadDocument, {}, { authorization: `Bearer ${key}` });
    // The bad key's detection is refused; a good caller right after it is not answered with that.
    expect(codes(await as('sk-bad-attacker'))).toEqual(['UNAUTHENTICATED']);
    expect(gateway.upstreamApiKind()).toBeUndefined();
    const good = await as('sk-good-caller');
    expect(good.errors).toBeUndefined();
    expect(gateway.upstreamApiKind()).toBe('conversations');
  });

  it('in pass-through mode, bad keys interleaved with good ones fail only themselves', async () => {
    upstream = await startTestUpstream(
      async (request) => {
        if (/Bearer sk-good/.test(request.headers.authorization ?? '')) return servesOnly('conversations')(request, 0);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { status: 401, body: { error: { message: 'bad key' } } };
      },
      { handleProbes: true },
    );
    gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
    const as = (key: string) =>
      execute(gateway as Gateway, CreateThreadDocument, {}, { authorization: `Bearer ${key}` });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? as(`sk-bad-${index}`) : as(`sk-good-${index}`))),
    );
    answers.forEach((answer, index) => {
      if (index % 2 === 0) expect(codes(answer), `bad ${index}`).toEqual(['UNAUTHENTICATED']);
      else expect(answer.errors, `good ${index}`).toBeUndefined();
    });
    const created = upstream.seen.filter(
      (request) => request.method === 'POST' && /Bearer sk-good/.test(request.headers.authorization ?? ''),
    );
    expect(created).toHaveLength(10);
  });
});

describe('a fixed UPSTREAM_API against an upstream that serves the other API', () => {
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
    upstream = undefined;
    gateway = undefined;
  });

  for (const [choice, other, reason] of [
    ['threads', 'conversations', 'not-threads-api'],
    ['conversations', 'threads', 'not-conversations-api'],
  ] as const) {
    it(`UPSTREAM_API=${choice} on a ${other}-only server is not usable (503), and nothing is sent`, async () => {
      upstream = await startTestUpstream(servesOnly(other), { handleProbes: true });
      gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, UPSTREAM_API: choice });
      expect((await ready(gateway)).status).toBe(503);
      expect(await gateway.checkUpstream()).toMatchObject({ ok: false, reason });
      expect(gateway.upstreamApiKind()).toBe(choice);
      expect(codes(await execute(gateway, CreateThreadDocument, {}))).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(upstream.seen).toHaveLength(0);
    });
  }

  it('refuses an unknown UPSTREAM_API at start-up, naming the variable', () => {
    expect(() => loadConfig({ UPSTREAM_API: 'assistants' })).toThrow(
      /UPSTREAM_API must be one of threads, conversations, auto/,
    );
    expect(loadConfig({ UPSTREAM_API: 'Conversations' }).upstreamApi).toBe('conversations');
  });
});
