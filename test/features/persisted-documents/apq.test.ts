import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client/core';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/app.ts';
import { CreateThreadDocument, GetThreadDocument } from '../../helpers/documents.ts';
import { testGateway } from '../../helpers/gateway.ts';
import { freePort, itWithRedis, REDIS_URL, testPrefix } from '../../helpers/redis.ts';
import { serveGateway } from '../../helpers/serve.ts';
import { closeAll, startTestUpstream } from '../../helpers/test-upstream.ts';
import { apq, codesOf, get, post, sha256 } from './requests.ts';

interface Sent {
  method: string;
  hasQuery: boolean;
  hash: string | undefined;
}

/** Apollo Client with the persisted-queries link (node:crypto's sha256), recording what it sends. */
function apolloWithApq(url: string, sent: Sent[]) {
  const recording: typeof fetch = async (input, init) => {
    const target = new URL(String(input));
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
    const extensions = body?.extensions ?? JSON.parse(target.searchParams.get('extensions') ?? 'null');
    sent.push({
      method: init?.method ?? 'GET',
      hasQuery: typeof body?.query === 'string' || target.searchParams.has('query'),
      hash: (extensions as { persistedQuery?: { sha256Hash?: string } } | null)?.persistedQuery?.sha256Hash,
    });
    return fetch(input, init);
  };
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([
      new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
      new HttpLink({ uri: url, fetch: recording }),
    ]),
  });
}

describe('automatic persisted queries (APQ) over real HTTP', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(() => closeAll(...open.splice(0).reverse()));

  async function served(gateway: Gateway) {
    const server = await serveGateway(gateway);
    open.push(gateway, server);
    return server;
  }

  it('Apollo Client: hash first, PERSISTED_QUERY_NOT_FOUND, the full document once; then hash-only GETs', async () => {
    const { url } = await served(testGateway());
    const sent: Sent[] = [];
    const client = apolloWithApq(url, sent);
    const created = await client.mutate({
      mutation: CreateThreadDocument,
      variables: { input: { metadata: { a: '1' } } },
    });
    const id = created.data?.createThread.id ?? '';
    expect(id).toMatch(/^thread_/);

    sent.length = 0;
    const first = await client.query({ query: GetThreadDocument, variables: { id }, fetchPolicy: 'network-only' });
    expect(first.data?.thread?.metadata).toEqual({ a: '1' });
    // A GET with the hash only, answered PersistedQueryNotFound; then the document, by POST.
    expect(sent).toEqual([
      { method: 'GET', hasQuery: false, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { method: 'POST', hasQuery: true, hash: sent[0]?.hash },
    ]);

    sent.length = 0;
    const again = await client.query({ query: GetThreadDocument, variables: { id }, fetchPolicy: 'network-only' });
    expect(again.data?.thread?.id).toBe(id);
    expect(sent).toEqual([{ method: 'GET', hasQuery: false, hash: sent[0]?.hash }]);

    // The same hash-only GET from anyone else (a CDN in front, another client) executes too.
    const hashOnly = await get(url, { variables: { id }, extensions: apq(sent[0]?.hash ?? '') });
    expect(hashOnly.status).toBe(200);
    expect((hashOnly.data?.thread as { id?: string } | undefined)?.id).toBe(id);
  });

  it('an unknown hash is PERSISTED_QUERY_NOT_FOUND with the message Apollo clients match, never cached', async () => {
    const { url } = await served(testGateway());
    const hash = sha256('{ __typename }');
    for (const answer of [
      await post(url, { extensions: apq(hash) }),
      await get(url, { extensions: apq(hash) }),
      await get(url, { documentId: `sha256:${hash}` }),
      await post(url, { documentId: hash }),
    ]) {
      expect(answer.status).toBe(200);
      expect(answer.errors).toEqual([
        { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
      ]);
      expect(answer.headers.get('cache-control')).toBe('private, no-cache, must-revalidate');
    }
  });

  it('holds the rule however the request arrives', async () => {
    const { url } = await served(testGateway());
    const text = '{ __typename }';
    const hash = sha256(text);
    const typename = { data: { __typename: 'Query' } };

    // A document and a hash that does not match it: refused, and nothing registered under that hash.
    const other = sha256('{ other }');
    expect(codesOf(await post(url, { query: text, extensions: apq(other) }))).toEqual([
      'PERSISTED_QUERY_HASH_MISMATCH',
    ]);
    expect(codesOf(await post(url, { extensions: apq(other) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    // The right hash of the text with other whitespace: the hash is over the exact text.
    const spaced = await post(url, { query: '{  __typename }', extensions: apq(hash) });
    expect([spaced.status, ...codesOf(spaced)]).toEqual([400, 'PERSISTED_QUERY_HASH_MISMATCH']);
    expect(codesOf(await post(url, { query: text, documentId: other }))).toEqual(['PERSISTED_QUERY_HASH_MISMATCH']);

    // A document that does not validate runs nowhere, so it is not remembered either.
    const invalid = '{ noSuchField }';
    expect(codesOf(await post(url, { query: invalid, extensions: apq(sha256(invalid)) }))).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    expect(codesOf(await post(url, { extensions: apq(sha256(invalid)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    // Malformed hashes are refused, never looked up: upper case, too long, too short, another version.
    for (const bad of [hash.toUpperCase(), `${hash}0`, hash.slice(1), `sha1:${hash.slice(0, 40)}`]) {
      const viaApq = await post(url, { query: text, extensions: apq(bad) });
      expect([viaApq.status, ...codesOf(viaApq)], bad).toEqual([400, 'BAD_USER_INPUT']);
      expect(codesOf(await get(url, { documentId: bad })), bad).toEqual(['BAD_USER_INPUT']);
    }
    for (const version of [2, '1', 0, null]) {
      expect(codesOf(await post(url, { query: text, extensions: apq(hash, version) })), String(version)).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    expect(codesOf(await post(url, { query: text, extensions: { persistedQuery: 'x' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await post(url, { extensions: apq(hash), documentId: other }))).toEqual(['BAD_USER_INPUT']);

    // Registered once (by GET, extensions as JSON in the query string), then known however it is asked for.
    expect(await get(url, { query: text, extensions: apq(hash) })).toMatchObject({ status: 200, ...typename });
    expect(await post(url, { extensions: apq(hash) })).toMatchObject({ status: 200, ...typename });
    expect(await get(url, { extensions: apq(hash) })).toMatchObject({ status: 200, ...typename });
    expect(await get(url, { documentId: `sha256:${hash}` })).toMatchObject({ status: 200, ...typename });
    expect(await post(url, { documentId: hash })).toMatchObject({ status: 200, ...typename });
    expect(await post(url, { documentId: hash, extensions: apq(hash) })).toMatchObject(typename);

    // Batching is off: a batch of hashes is refused whole; malformed `extensions` JSON is a 400.
    const batch = await post(url, [{ extensions: apq(hash) }, { extensions: apq(hash) }]);
    expect([batch.status, ...codesOf(batch)]).toEqual([400, 'BAD_REQUEST']);
    const broken = await fetch(`${url}?extensions=${encodeURIComponent('{"persistedQuery":')}`, {
      headers: { accept: 'application/json' },
    });
    expect(broken.status).toBe(400);
    // A mutation by hash over GET is still a mutation over GET.
    const mutation = 'mutation { deleteThread(id: "thread_x") { id } }';
    await post(url, { query: mutation, extensions: apq(sha256(mutation)) });
    const viaGet = await get(url, { extensions: apq(sha256(mutation)) });
    expect([viaGet.status, ...codesOf(viaGet)]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('a stored document goes through the operation limits on every execution', async () => {
    const upstream = await startTestUpstream();
    open.push(upstream);
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url };
    const { url } = await served(testGateway({ ...env, MAX_ALIASES: '2', MAX_UPSTREAM_CALLS: '3' }));
    // Over a limit whatever its variables: refused, and not remembered.
    const aliased =
      '{ a: thread(id: "thread_a") { id } b: thread(id: "thread_b") { id } c: thread(id: "thread_c") { id } }';
    expect(codesOf(await post(url, { query: aliased, extensions: apq(sha256(aliased)) }))).toEqual([
      'TOO_MANY_ALIASES',
    ]);
    expect(codesOf(await get(url, { extensions: apq(sha256(aliased)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(upstream.seen).toEqual([]);

    // Within the limits with one id, over them with five: the stored text is judged again each time.
    const byIds = 'query Threads($ids: [ID!]!) { threads(ids: $ids) { id } }';
    const hash = sha256(byIds);
    expect(codesOf(await post(url, { query: byIds, variables: { ids: ['thread_a'] }, extensions: apq(hash) }))).toEqual(
      [],
    );
    const calls = upstream.seen.length;
    const ids = ['thread_a', 'thread_b', 'thread_c', 'thread_d', 'thread_e'];
    expect(codesOf(await get(url, { variables: { ids }, extensions: apq(hash) }))).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(codesOf(await post(url, { documentId: hash, variables: { ids } }))).toEqual(['UPSTREAM_CALL_LIMIT']);
    expect(upstream.seen.length).toBe(calls);
  });

  it('a document the upstream-call estimate refuses is not remembered', async () => {
    const upstream = await startTestUpstream();
    open.push(upstream);
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url };
    const { url } = await served(testGateway({ ...env, MAX_UPSTREAM_CALLS: '5' }));
    const aliases = Array.from({ length: 10 }, (_, i) => `t${i}: thread(id: "thread_${i}") { id }`).join(' ');
    const document = `{ ${aliases} }`;
    expect(codesOf(await post(url, { query: document, extensions: apq(sha256(document)) }))).toEqual([
      'UPSTREAM_CALL_LIMIT',
    ]);
    expect(codesOf(await get(url, { extensions: apq(sha256(document)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(upstream.seen).toEqual([]);
  });

  it('remembers a subscription’s document too: sent once in full, then its hash alone opens it (SSE)', async () => {
    const { url } = await served(testGateway());
    const created = await post(url, { query: 'mutation { createThread(input: {}) { id } }' });
    const threadId = (created.data?.createThread as { id?: string } | undefined)?.id;
    const query = 'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename } }';
    const hash = sha256(query);
    const open = async (body: Record<string, unknown>) => {
      const controller = new AbortController();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ variables: { t: threadId }, extensions: apq(hash), ...body }),
        signal: controller.signal,
      });
      const first = await (response.body as ReadableStream<Uint8Array>).getReader().read();
      controller.abort();
      return new TextDecoder().decode(first.value);
    };
    expect(await open({})).toContain('PERSISTED_QUERY_NOT_FOUND');
    // The full document with its hash opens the subscription (a stream starts, no error)...
    expect(await open({ query })).not.toContain('errors');
    // ...and is remembered: the hash alone opens it now.
    for (let tries = 0; tries < 20 && (await open({})).includes('PERSISTED_QUERY_NOT_FOUND'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await open({})).not.toContain('PERSISTED_QUERY_NOT_FOUND');
  });

  it('APQ_MAX_ENTRIES holds: past it the least recently used document is forgotten', async () => {
    const { url } = await served(testGateway({ APQ_MAX_ENTRIES: '2' }));
    const texts = ['{ a: __typename }', '{ b: __typename }', '{ c: __typename }'];
    for (const text of texts)
      expect(codesOf(await post(url, { query: text, extensions: apq(sha256(text)) }))).toEqual([]);
    const known = await Promise.all(texts.map(async (text) => codesOf(await post(url, { documentId: sha256(text) }))));
    expect(known).toEqual([['PERSISTED_QUERY_NOT_FOUND'], [], []]);
  });

  it('APQ_MAX_ENTRIES=0 turns APQ off: PERSISTED_QUERY_NOT_SUPPORTED, and full documents still run', async () => {
    const { url } = await served(testGateway({ APQ_MAX_ENTRIES: '0' }));
    const text = '{ __typename }';
    const answer = await post(url, { extensions: apq(sha256(text)) });
    expect([answer.status, answer.errors?.[0]?.message, ...codesOf(answer)]).toEqual([
      200,
      'PersistedQueryNotSupported',
      'PERSISTED_QUERY_NOT_SUPPORTED',
    ]);
    expect(await post(url, { query: text })).toMatchObject({ data: { __typename: 'Query' } });
  });

  itWithRedis('two gateways on one Redis: a document registered on one is known to the other', async () => {
    const { prefix, cleanup } = testPrefix();
    open.push({ close: cleanup });
    const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const a = await served(testGateway(env));
    const b = await served(testGateway(env));
    const sent: Sent[] = [];
    const created = await apolloWithApq(a.url, sent).mutate({ mutation: CreateThreadDocument, variables: {} });
    expect(created.data?.createThread.id).toMatch(/^thread_/);
    const hash = sent[0]?.hash ?? '';
    // The mutation went hash-first (POST), then in full: registered through instance a only.
    expect(sent.map((request) => request.hasQuery)).toEqual([false, true]);

    const text = '{ __typename }';
    expect(codesOf(await post(a.url, { query: text, extensions: apq(sha256(text)) }))).toEqual([]);
    expect(await get(b.url, { extensions: apq(sha256(text)) })).toMatchObject({ data: { __typename: 'Query' } });
    expect(await get(b.url, { documentId: `sha256:${sha256(text)}` })).toMatchObject({ data: { __typename: 'Query' } });
    const viaB = await post(b.url, { extensions: apq(hash), variables: {} });
    expect((viaB.data?.createThread as { id?: string } | undefined)?.id).toMatch(/^thread_/);
  });

  itWithRedis('a document stored through a lenient instance is still refused by a strict one', async () => {
    const { prefix, cleanup } = testPrefix();
    open.push({ close: cleanup });
    const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const lenient = await served(testGateway(env));
    const strict = await served(testGateway({ ...env, MAX_DEPTH: '2' }));
    const deep = '{ thread(id: "thread_x") { messages(first: 1) { edges { node { id } } } } }';
    await post(lenient.url, { query: deep, extensions: apq(sha256(deep)) });
    expect(codesOf(await get(strict.url, { extensions: apq(sha256(deep)) }))).toEqual(['QUERY_TOO_DEEP']);
  });

  it('a Redis outage degrades to per-instance APQ: not found, the document once, then known; never a 500', async () => {
    const env = { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_TIMEOUT_MS: '100' };
    const a = await served(testGateway(env));
    const b = await served(testGateway(env));
    const text = '{ __typename }';
    const hash = sha256(text);
    const missing = await get(a.url, { extensions: apq(hash) });
    expect([missing.status, ...codesOf(missing)]).toEqual([200, 'PERSISTED_QUERY_NOT_FOUND']);
    expect(await post(a.url, { query: text, extensions: apq(hash) })).toMatchObject({ status: 200 });
    expect(await get(a.url, { extensions: apq(hash) })).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    // Instance b never saw it: it asks for it once, like any cold instance.
    expect(codesOf(await get(b.url, { extensions: apq(hash) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});
