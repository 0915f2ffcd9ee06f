import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute as graphqlExecute, parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, loadConfig } from '../../src/index.ts';
import { createLogger } from '../../src/logger.ts';
import { GetThreadsDocument } from '../helpers/documents.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

describe('operating the gateway', () => {
  let upstream: TestUpstream | undefined;
  afterEach(async () => {
    await upstream?.close();
    upstream = undefined;
  });

  it('exposes Prometheus metrics: requests by operation, upstream calls and latency, batch sizes', async () => {
    upstream = await startTestUpstream((request) =>
      request.path.endsWith('thread_broken') ? { status: 503 } : { forward: true },
    );
    const gateway = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      UPSTREAM_MAX_RETRIES: '0',
    });
    const id = (await upstream.store.createThread({})).id;
    await execute(gateway, GetThreadsDocument, { ids: [id, 'thread_missing', 'thread_broken'] });
    const text = await (await gateway.yoga.fetch('http://gateway.test/metrics')).text();
    expect(text).toMatch(/graphql_requests_total\{operation="GetThreads",outcome="error"\} 1/);
    expect(text).toMatch(/graphql_request_duration_seconds_count\{operation="GetThreads"\} 1/);
    expect(text).toMatch(
      /upstream_requests_total\{method="GET",route="\/threads\/\{id\}",status="200",outcome="success"\} 1/,
    );
    expect(text).toMatch(
      /upstream_requests_total\{method="GET",route="\/threads\/\{id\}",status="404",outcome="not_found"\} 1/,
    );
    expect(text).toMatch(
      /upstream_requests_total\{method="GET",route="\/threads\/\{id\}",status="503",outcome="error"\} 1/,
    );
    expect(text).toMatch(/upstream_request_duration_seconds_count\{method="GET",route="\/threads\/\{id\}"\} 3/);
    expect(text).toMatch(/dataloader_batch_size_sum\{loader="thread"\} 3/);
  });

  it('bounds the operation label set that clients choose', async () => {
    const gateway = testGateway();
    for (let index = 0; index < 130; index++) await execute(gateway, `query Op${index} { __typename }`);
    await execute(gateway, '{ __typename }');
    const text = await (await gateway.yoga.fetch('http://gateway.test/metrics')).text();
    const labels = new Set([...text.matchAll(/graphql_requests_total\{operation="([^"]+)"/g)].map((match) => match[1]));
    expect(labels.size).toBeLessThanOrEqual(102);
    expect(labels.has('other')).toBe(true);
    expect(labels.has('anonymous')).toBe(true);
  });

  it('logs one structured line per request: operation, duration, upstream calls, request id, never a key', async () => {
    upstream = await startTestUpstream();
    const lines: string[] = [];
    const key = 'sk-proj-LOGTEST-abcdefghijklmnop';
    const gateway = createGateway(loadConfig({ OPENAI_API_KEY: key, OPENAI_BASE_URL: upstream.url }), {
      logger: createLogger('info', [key], (line) => lines.push(line)),
    });
    const ids = [(await upstream.store.createThread({})).id, (await upstream.store.createThread({})).id];
    const response = await execute(gateway, GetThreadsDocument, { ids }, { 'x-request-id': 'req-from-client-1' });
    expect(response.headers.get('x-request-id')).toBe('req-from-client-1');
    const requestLines = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      requestId: 'req-from-client-1',
      operation: 'GetThreads',
      status: 200,
      upstreamCalls: 2,
    });
    expect(typeof requestLines[0].durationMs).toBe('number');
    expect(lines.join('\n')).not.toContain(key.slice(0, 12));
  });

  it('can be mounted in another Node server, and composed in-process', async () => {
    const gateway = createGateway(loadConfig({ LOG_LEVEL: 'silent', LOCAL_BACKEND_STORE: 'memory' }));
    const host = createServer((req, res) => {
      if (req.url?.startsWith('/api/graphql')) {
        req.url = req.url.replace('/api/graphql', '/graphql');
        return gateway.yoga(req, res);
      }
      res.writeHead(200).end('host app');
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const { port } = host.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/api/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { createThread { id } }' }),
    });
    const id = ((await answer.json()) as { data: { createThread: { id: string } } }).data.createThread.id;
    expect(id).toMatch(/^thread_/);
    host.close();

    const inProcess = await graphqlExecute({
      schema: gateway.schema,
      document: parse(`{ thread(id: "${id}") { id } }`),
      contextValue: gateway.createContext(new Request('http://in-process/graphql')),
    });
    expect(inProcess.data).toEqual({ thread: { id } });
  });
});

describe('error masking', () => {
  it('masks anything unexpected as INTERNAL_SERVER_ERROR, without its message, and logs it', async () => {
    const lines: string[] = [];
    const failing = async (): Promise<never> => {
      throw new Error('database password is hunter2');
    };
    const gateway = createGateway(loadConfig({ LOCAL_BACKEND_STORE: 'memory' }), {
      logger: createLogger('error', [], (line) => lines.push(line)),
      upstreamApi: {
        kind: 'threads',
        retrieveThread: failing,
        createThread: failing,
        updateThread: failing,
        deleteThread: failing,
        listMessages: failing,
        retrieveMessage: failing,
        createMessage: failing,
        updateMessage: failing,
        deleteMessage: failing,
        createRun: failing,
        retrieveRun: failing,
        listRuns: failing,
        submitToolOutputs: failing,
        cancelRun: failing,
        retrieveAssistant: failing,
        listAssistants: failing,
        createAssistant: failing,
        updateAssistant: failing,
        deleteAssistant: failing,
      },
    });
    for (const result of [
      await execute(gateway, '{ thread(id: "thread_a") { id } }'),
      await execute(gateway, 'mutation { createThread { id } }'),
    ]) {
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
    expect(lines.some((line) => line.includes('unexpected error'))).toBe(true);
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});
