import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { codes, execute } from '../helpers/gateway.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

/** N aliased createThread calls, each with one message whose content is the variable $c. */
function aliasedCreates(count: number): string {
  const fields = Array.from(
    { length: count },
    (_, index) => `t${index}: createThread(input: { messages: [{ role: USER, content: $c }] }) { id }`,
  );
  return `mutation Many($c: JSON!) { ${fields.join('\n')} }`;
}

describe('bounded bytes: upstream write payloads are counted after variables are expanded', () => {
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(() => closeAll(gateway, upstream));

  it('one variable referenced from many writes counts once per reference; over MAX_BODY_BYTES nothing goes upstream', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ MAX_BODY_BYTES: String(1024 * 1024) }));
    const content = 'x'.repeat(30_000);
    const refused = await execute(gateway, aliasedCreates(50), { c: content });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.message).toContain('MAX_BODY_BYTES');
    expect(upstream.seen).toHaveLength(0);

    // The same shape under the limit runs: the count is of what would really be sent.
    const allowed = await execute(gateway, aliasedCreates(20), { c: content });
    expect(allowed.errors).toBeUndefined();
    expect(upstream.count('POST', /^\/v1\/threads$/)).toBe(20);
  });

  it('counts a variable left to its default in the document like one sent in the variables', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ MAX_BODY_BYTES: String(1024 * 1024) }));
    // A 30 KB default, referenced from 50 creates: 1.5 MB of writes from a 30 KB document.
    const document = aliasedCreates(50).replace('($c: JSON!)', `($c: JSON! = "${'x'.repeat(30_000)}")`);
    const refused = await execute(gateway, document);
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.message).toContain('MAX_BODY_BYTES');
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('bounded depth: JSON values have a depth cap, refused as BAD_USER_INPUT, never a stack overflow', () => {
  let upstream: TestUpstream | undefined;
  let gateway: Gateway | undefined;
  afterEach(() => closeAll(gateway, upstream));

  /** JSON text nesting `depth` arrays (JSON.stringify itself would overflow on a deep value). */
  function nested(depth: number): string {
    return `${'['.repeat(depth)}"leaf"${']'.repeat(depth)}`;
  }

  /** POSTs a body whose variables are written as raw JSON text. */
  async function post(query: string, variablesJson: string) {
    const response = await (gateway as Gateway).yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`,
    });
    return {
      status: response.status,
      ...((await response.json()) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }),
    };
  }

  it.each([40, 10_000, 100_000])('a JSON variable %i levels deep', async (depth) => {
    ({ upstream, gateway } = await startServerKeyGateway());
    const response = await post(
      'mutation Deep($m: JSON) { createThread(input: { toolResources: $m }) { id } }',
      `{"m":{"code_interpreter":{"file_ids":${nested(depth)}}}}`,
    );
    expect(response.status).toBeLessThan(500);
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.message).toContain('MAX_JSON_DEPTH');
    expect(upstream.seen).toHaveLength(0);
  });

  it('inside _entities representations too', async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
    const response = await post(
      'query Entities($r: [_Any!]!) { _entities(representations: $r) { ... on Thread { id } } }',
      `{"r":[{"__typename":"Thread","id":"thread_x","extra":${nested(50_000)}}]}`,
    );
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(upstream.seen).toHaveLength(0);
  });

  it('in a literal written in the document', async () => {
    ({ upstream, gateway } = await startServerKeyGateway());
    const literal = `${'['.repeat(40)}"x"${']'.repeat(40)}`;
    const response = await execute(gateway, `mutation { createThread(input: { metadata: { a: ${literal} } }) { id } }`);
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.message).toContain('MAX_JSON_DEPTH');
    expect(upstream.seen).toHaveLength(0);
  });

  it('a value at the cap still works', async () => {
    ({ upstream, gateway } = await startServerKeyGateway({ MAX_JSON_DEPTH: '64' }));
    const response = await post(
      'mutation AtCap($m: JSON!) { createThread(input: { messages: [{ role: USER, content: $m }] }) { id } }',
      `{"m":${nested(60)}}`,
    );
    // Refused by the content rules, not by the depth cap: the cap let it through.
    expect(response.errors?.[0]?.message).not.toContain('MAX_JSON_DEPTH');
  });
});
