import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { MemoryRunRecords } from '../../src/features/runs/memory-run-records.ts';
import { CreateAssistantDocument } from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * The gateway's own run and assistant records (runs over the Responses API) cost what an upstream
 * call costs, and never cross tenants.
 */
const open: Array<{ close(): Promise<void> }> = [];
afterEach(() => closeAll(...open.splice(0).reverse()));

function gateway(env: Record<string, string>, records = new MemoryRunRecords()): Gateway {
  const built = testGateway({ UPSTREAM_API: 'conversations', ...env }, { runRecords: records });
  open.push(built);
  return built;
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

async function post(target: Gateway, query: string, headers: Record<string, string> = {}) {
  const response = await target.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown>;
    errors?: Array<{ extensions?: { code?: string } }>;
  };
}

describe('the gateway’s run and assistant records', () => {
  it('are not served with callers’ own keys (each key is its own tenant): UNSUPPORTED_BY_UPSTREAM, nothing sent', async () => {
    const upstream: TestUpstream = await startTestUpstream();
    open.push(upstream);
    const passThrough = gateway({ OPENAI_BASE_URL: upstream.url, LOCAL_BACKEND_STORE: 'memory' });
    const before = upstream.seen.length;
    const created = await post(
      passThrough,
      'mutation { createAssistant(input: { model: "echo", name: "A" }) { id } }',
      as('sk-org-a'),
    );
    expect(codes(created as never)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    const listed = await post(passThrough, '{ assistants(first: 10) { nodes { id } } }', as('sk-org-b'));
    expect(codes(listed as never)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(upstream.seen.length).toBe(before);
  });

  it('count against the caller’s rate limit like upstream calls', async () => {
    const target = gateway({ GATEWAY_TOKENS: 'tok-a', RATE_LIMIT_PER_MINUTE: '3' });
    const results = [];
    for (let i = 0; i < 5; i += 1) {
      results.push(
        await execute(target, CreateAssistantDocument, { input: { model: 'echo', name: `n${i}` } }, as('tok-a')),
      );
    }
    expect(results.map((result) => codes(result))).toEqual([[], [], [], ['RATE_LIMITED'], ['RATE_LIMITED']]);
  });

  it('read a page once per request however many aliases ask for it, each read within the call budget', async () => {
    const records = new MemoryRunRecords();
    let reads = 0;
    const listAssistants = records.listAssistants.bind(records);
    records.listAssistants = (params) => {
      reads += 1;
      return listAssistants(params);
    };
    const target = gateway({ MAX_UPSTREAM_CALLS: '10' }, records);
    for (let i = 0; i < 3; i += 1) {
      await execute(target, CreateAssistantDocument, { input: { model: 'echo', name: `n${i}` } });
    }
    const aliases = Array.from({ length: 8 }, (_, i) => `a${i}: assistants(first: 100) { nodes { id } }`).join(' ');
    const same = await post(target, `{ ${aliases} }`);
    expect(same.errors).toBeUndefined();
    expect(reads).toBe(1);
    const distinct = Array.from({ length: 11 }, (_, i) => `a${i}: assistants(first: ${i + 1}) { nodes { id } }`).join(
      ' ',
    );
    expect(codes((await post(target, `{ ${distinct} }`)) as never)).toContain('UPSTREAM_CALL_LIMIT');
  });
});
