import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../../src/app.ts';
import { ConfigError } from '../../../src/config/config.ts';
import { CreateThreadDocument, GetThreadDocument, UpdateThreadDocument } from '../../helpers/documents.ts';
import { testGateway } from '../../helpers/gateway.ts';
import { serveGateway } from '../../helpers/serve.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../../helpers/test-upstream.ts';
import { apq, codesOf, get, post, sha256 } from './requests.ts';

/** The manifest `npm run codegen` writes for the test documents. */
const MANIFEST = new URL('../../gql/persisted-documents.json', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;

/** The hash codegen put on a typed document (`persistedDocuments: true`), as an app sends it. */
function hashOf(document: unknown): string {
  return (document as { __meta__: { hash: string } }).__meta__.hash;
}

function textOf(document: unknown): string {
  return manifest[hashOf(document)] ?? '';
}

function writeManifest(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tgw-trusted-')), 'manifest.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('TRUSTED_DOCUMENTS: only the manifest’s documents execute', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(() => closeAll(...open.splice(0).reverse()));

  async function trustedGateway(env: Record<string, string> = {}): Promise<{ url: string; upstream: TestUpstream }> {
    const upstream = await startTestUpstream();
    const gateway: Gateway = testGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      TRUSTED_DOCUMENTS: MANIFEST,
      ...env,
    });
    const server = await serveGateway(gateway);
    open.push(upstream, gateway, server);
    return { url: server.url, upstream };
  }

  it('runs a manifest document sent by documentId (body or query string), by APQ hash, or in full', async () => {
    const { url } = await trustedGateway();
    expect(hashOf(GetThreadDocument)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const created = await post(url, { documentId: hashOf(CreateThreadDocument), variables: { input: {} } });
    const id = (created.data?.createThread as { id?: string } | undefined)?.id ?? '';
    expect(id).toMatch(/^thread_/);
    await post(url, { documentId: hashOf(UpdateThreadDocument), variables: { id, input: { metadata: { k: 'v' } } } });

    const bare = hashOf(GetThreadDocument).slice('sha256:'.length);
    const expected = { data: { thread: { id, metadata: { k: 'v' } } } };
    expect(await get(url, { documentId: hashOf(GetThreadDocument), variables: { id } })).toMatchObject(expected);
    expect(await post(url, { documentId: bare, variables: { id } })).toMatchObject(expected);
    expect(await get(url, { extensions: apq(bare), variables: { id } })).toMatchObject(expected);
    expect(await post(url, { extensions: apq(bare), variables: { id } })).toMatchObject(expected);
    expect(await post(url, { query: textOf(GetThreadDocument), variables: { id } })).toMatchObject(expected);
    expect(await get(url, { query: textOf(GetThreadDocument), variables: { id } })).toMatchObject(expected);
    expect(
      await post(url, { query: textOf(GetThreadDocument), extensions: apq(bare), variables: { id } }),
    ).toMatchObject(expected);

    // Over WebSocket, a subscribe message's documentId is the POST's.
    const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const overWs = await new Promise((resolve, reject) => {
      // graphql-ws wants a query string: clients of trusted documents send an empty one.
      const payload = { query: '', documentId: hashOf(GetThreadDocument), variables: { id } };
      client.subscribe(payload, { next: resolve, error: reject, complete: () => undefined });
    });
    await client.dispose();
    expect(overWs).toMatchObject(expected);
  });

  it('refuses everything else with a code, before parsing it: nothing reaches the upstream', async () => {
    const { url, upstream } = await trustedGateway();
    const refusedAs = async (body: Record<string, unknown> | unknown[], how: 'post' | 'get' = 'post') => {
      const answer = how === 'post' ? await post(url, body) : await get(url, body as Record<string, unknown>);
      return [answer.status, ...codesOf(answer)];
    };
    const required = [403, 'TRUSTED_DOCUMENT_REQUIRED'];
    const unknown = '{ thread(id: "thread_x") { id } }';
    expect(await refusedAs({ query: unknown })).toEqual(required);
    expect(await refusedAs({ query: unknown }, 'get')).toEqual(required);
    // Not even parsed: a broken document is refused as untrusted, not as a syntax error.
    expect(await refusedAs({ query: '{ thread(' })).toEqual(required);
    // A manifest document with other whitespace is another document.
    expect(await refusedAs({ query: `${textOf(GetThreadDocument)} `, variables: { id: 'thread_x' } })).toEqual(
      required,
    );
    // APQ cannot register anything here: its right hash does not make a document trusted.
    expect(await refusedAs({ query: unknown, extensions: apq(sha256(unknown)) })).toEqual(required);
    expect(await refusedAs({ extensions: apq(sha256(unknown)) })).toEqual([200, 'PERSISTED_QUERY_NOT_FOUND']);
    expect(await refusedAs({ documentId: `sha256:${sha256(unknown)}` }, 'get')).toEqual([
      200,
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    // A manifest hash sent with another document, or spelled otherwise, is refused.
    const bare = hashOf(GetThreadDocument).slice('sha256:'.length);
    expect(await refusedAs({ query: unknown, extensions: apq(bare) })).toEqual([400, 'PERSISTED_QUERY_HASH_MISMATCH']);
    expect(await refusedAs({ query: unknown, documentId: bare })).toEqual([400, 'PERSISTED_QUERY_HASH_MISMATCH']);
    expect(await refusedAs({ documentId: bare.toUpperCase() })).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusedAs({ extensions: apq(`${bare}00`) })).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusedAs({ extensions: apq(bare, 2) })).toEqual([400, 'BAD_USER_INPUT']);
    // Batches are off; a mutation in the manifest is still no GET.
    expect(await refusedAs([{ documentId: bare }, { query: unknown }])).toEqual([400, 'BAD_REQUEST']);
    expect(await refusedAs({ documentId: hashOf(CreateThreadDocument) }, 'get')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    // No document at all.
    expect(await refusedAs({ variables: {} })).toEqual([400, 'BAD_REQUEST']);
    expect(upstream.seen).toEqual([]);
  });

  it('refuses introspection unless ALLOW_INTROSPECTION=true, which lets introspection-only documents in', async () => {
    const introspection = getIntrospectionQuery();
    const closed = await trustedGateway();
    expect(codesOf(await post(closed.url, { query: introspection }))).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);

    const opened = await trustedGateway({ ALLOW_INTROSPECTION: 'true' });
    const schema = await post(opened.url, { query: introspection });
    expect(schema.data?.__schema).toMatchObject({ queryType: { name: 'Query' } });
    // Only introspection: a document that reads threads beside it is untrusted as ever.
    const mixed = '{ __schema { queryType { name } } thread(id: "thread_x") { id } }';
    expect(codesOf(await post(opened.url, { query: mixed }))).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    const fragment = 'query { ...Everything } fragment Everything on Query { thread(id: "thread_x") { id } }';
    expect(codesOf(await post(opened.url, { query: fragment }))).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    expect(opened.upstream.seen).toEqual([]);

    // Introspection in the manifest itself is refused too, unless allowed.
    const text = '{ __type(name: "Thread") { name } }';
    const path = writeManifest({ [`sha256:${sha256(text)}`]: text });
    const inManifest = await trustedGateway({ TRUSTED_DOCUMENTS: path });
    expect(codesOf(await post(inManifest.url, { query: text }))).toEqual(['INTROSPECTION_DISABLED']);
    const allowed = await trustedGateway({ TRUSTED_DOCUMENTS: path, ALLOW_INTROSPECTION: 'true' });
    expect(await post(allowed.url, { documentId: sha256(text) })).toMatchObject({
      data: { __type: { name: 'Thread' } },
    });
  });

  it('ALLOW_INTROSPECTION=false refuses introspection without a manifest too; __typename stays', async () => {
    const gateway = testGateway({ ALLOW_INTROSPECTION: 'false' });
    const server = await serveGateway(gateway);
    open.push(gateway, server);
    expect(codesOf(await post(server.url, { query: '{ __schema { queryType { name } } }' }))).toEqual([
      'INTROSPECTION_DISABLED',
    ]);
    expect(await post(server.url, { query: '{ __typename }' })).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('turns GraphiQL off unless GRAPHIQL=true is set explicitly', async () => {
    const page = (url: string) => fetch(url, { headers: { accept: 'text/html' } });
    const off = await page((await trustedGateway()).url);
    expect(off.headers.get('content-type') ?? '').not.toContain('text/html');
    await off.body?.cancel();
    const on = await page((await trustedGateway({ GRAPHIQL: 'true' })).url);
    expect(on.status).toBe(200);
    expect(on.headers.get('content-type')).toContain('text/html');
    await on.body?.cancel();
  });

  it("reads Apollo's manifest format too", async () => {
    const text = 'query Typename { __typename }';
    const path = writeManifest({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256(text), name: 'Typename', type: 'query', body: text }],
    });
    const { url } = await trustedGateway({ TRUSTED_DOCUMENTS: path });
    expect(await get(url, { extensions: apq(sha256(text)) })).toMatchObject({ data: { __typename: 'Query' } });
    expect(codesOf(await post(url, { query: '{ __typename }' }))).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
  });

  it('refuses to start on a manifest it cannot trust, naming the variable', () => {
    const text = '{ __typename }';
    for (const [content, reason] of [
      [{ [`sha256:${sha256(`${text} `)}`]: text }, /not the sha256 of its document/],
      [{ [sha256(text).toUpperCase()]: text }, /not the sha256 of its document/],
      [{ abc: text }, /not the sha256 of its document/],
      [{ [sha256(text)]: 42 }, /is not a string/],
      [{}, /holds no documents/],
      [[text], /must hold a JSON object/],
      [{ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }, /version 1/],
    ] as const) {
      const path = writeManifest(content);
      expect(() => testGateway({ TRUSTED_DOCUMENTS: path }), JSON.stringify(content)).toThrow(ConfigError);
      expect(() => testGateway({ TRUSTED_DOCUMENTS: path })).toThrow(reason);
    }
    expect(() => testGateway({ TRUSTED_DOCUMENTS: '/nonexistent/manifest.json' })).toThrow(
      /TRUSTED_DOCUMENTS: .* cannot be read/,
    );
  });
});
