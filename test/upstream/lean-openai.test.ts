import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIConnectionTimeoutError, type APIError, NotFoundError } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeanOpenAI } from '../../src/upstream/sdk/fast-read-client.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';

/**
 * Pins `LeanOpenAI` to the SDK it subclasses: every call the adapters make must leave the client
 * exactly as the SDK's own client sends it (URL, method, headers, body), minus the `x-stainless-*`
 * telemetry the transport drops. If an SDK upgrade adds a header, changes a URL or stops calling
 * `buildRequest` / `fetchWithTimeout`, a test here fails.
 */

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Whether the request reached fetch with a plain header object (the lean path) or `Headers`. */
  plainHeaders: boolean;
}

const thread = { id: 'thread_abc', object: 'thread', created_at: 1, metadata: {}, tool_resources: null };

function recordingClient<T extends OpenAI>(
  Client: new (options: ConstructorParameters<typeof OpenAI>[0]) => T,
  answer: () => Response = () => Response.json(thread),
) {
  const sent: Sent[] = [];
  const client = new Client({
    apiKey: 'sk-test',
    baseURL: 'http://upstream.test/v1',
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: 5_000,
    fetch: async (url: string | URL | Request, init: RequestInit = {}) => {
      const headers: Record<string, string> = {};
      const plainHeaders = !(init.headers instanceof Headers);
      new Headers(init.headers).forEach((value, name) => {
        if (!name.startsWith('x-stainless-')) headers[name] = value;
      });
      sent.push({
        url: String(url),
        method: String(init.method).toUpperCase(),
        headers,
        body: typeof init.body === 'string' ? init.body : undefined,
        plainHeaders,
      });
      return answer();
    },
  });
  return { client, sent };
}

type Call = (client: OpenAI) => Promise<unknown>;

/** Every call an adapter makes, in the shapes the adapters use. */
const calls: Record<string, Call> = {
  'threads.retrieve': (client) => client.beta.threads.retrieve('thread_abc', { timeout: 1234, maxRetries: 0 }),
  'threads.retrieve, caller key (pass-through)': (client) =>
    client.beta.threads.retrieve('thread_abc', { headers: { Authorization: 'Bearer sk-caller' } }),
  'threads.create with an idempotency key': (client) =>
    client.beta.threads.create(
      { metadata: { a: 'b' }, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'Idempotency-Key': 'key-1' } },
    ),
  'threads.create, no body': (client) => client.beta.threads.create(),
  'threads.update': (client) => client.beta.threads.update('thread_abc', { metadata: { x: 'y' } }),
  'threads.delete': (client) => client.beta.threads.delete('thread_abc'),
  'messages.list with a cursor': (client) =>
    client.beta.threads.messages.list('thread_abc', { limit: 20, order: 'asc', after: 'msg_1' }),
  'messages.retrieve': (client) => client.beta.threads.messages.retrieve('msg_1', { thread_id: 'thread_abc' }),
  'messages.create': (client) =>
    client.beta.threads.messages.create('thread_abc', { role: 'user', content: 'hello', metadata: { k: 'v' } }),
  'messages.update': (client) =>
    client.beta.threads.messages.update('msg_1', { thread_id: 'thread_abc', metadata: { k: 'w' } }),
  'messages.delete': (client) => client.beta.threads.messages.delete('msg_1', { thread_id: 'thread_abc' }),
  'conversations.retrieve': (client) => client.conversations.retrieve('conv_1'),
  'conversations.items.list': (client) =>
    client.conversations.items.list('conv_1', { limit: 20, order: 'asc', after: 'item_1' }),
  'conversations.items.create': (client) =>
    client.conversations.items.create('conv_1', {
      items: [{ type: 'message', role: 'user', content: 'hi' }],
    }),
  'get with plain headers': (client) =>
    client.get('/threads/thread_abc', { headers: { 'OpenAI-Beta': 'assistants=v2' }, timeout: 1234 }),
  'an id with characters that need encoding': (client) => client.beta.threads.retrieve('thread a/b?c#d%'),
  'a query with an array': (client) => client.get('/threads', { query: { include: ['a', 'b'] } }),
};

/** Calls the lean path leaves to the SDK's own method; they must still send what the SDK sends. */
const unusual: Record<string, Call> = {
  'a string body': (client) => client.post('/threads', { body: '{"raw":true}' }),
  'an array of header tuples': (client) =>
    client.get('/threads/thread_abc', {
      headers: [
        ['OpenAI-Beta', 'assistants=v2'],
        ['X-Extra', 'one'],
      ],
    }),
};

async function sentBy(Client: typeof OpenAI | typeof LeanOpenAI, call: Call): Promise<Sent[]> {
  const { client, sent } = recordingClient(Client);
  await call(client).catch(() => undefined);
  return sent;
}

describe('LeanOpenAI: the SDK client with cheaper request building, pinned to the SDK', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.entries(calls))('sends what the SDK sends, on the lean path: %s', async (_name, call) => {
    const expected = await sentBy(OpenAI, call);
    const actual = await sentBy(LeanOpenAI, call);
    expect(expected).toHaveLength(1);
    expect(actual.map(({ plainHeaders, ...request }) => request)).toEqual(
      expected.map(({ plainHeaders, ...request }) => request),
    );
    // Proof that the SDK still calls `buildRequest`, and that our override took the call.
    expect(actual[0]?.plainHeaders).toBe(true);
    expect(expected[0]?.plainHeaders).toBe(false);
  });

  it.each(Object.entries(unusual))('leaves the unusual to the SDK, with the same request: %s', async (_name, call) => {
    const expected = await sentBy(OpenAI, call);
    const actual = await sentBy(LeanOpenAI, call);
    expect(actual).toEqual(expected);
    expect(actual[0]?.plainHeaders).toBe(false);
  });

  it('refuses a path with dot segments, a client without credentials, in the SDK’s own words', async () => {
    const stock = recordingClient(OpenAI);
    const lean = recordingClient(LeanOpenAI);
    const dots = async (client: OpenAI) =>
      (async () => client.beta.threads.retrieve('..'))().catch((error: unknown) => String(error).split('\n')[0]);
    expect(await dots(lean.client)).toBe(await dots(stock.client));
    const noAuth = (client: OpenAI) =>
      client.beta.threads.retrieve('thread_abc', { headers: { Authorization: null } }).then(
        () => 'sent',
        (error: unknown) => String(error),
      );
    expect(await noAuth(lean.client)).toBe(await noAuth(stock.client));
    expect(lean.sent).toEqual(stock.sent);
  });

  it('keeps the SDK’s answers and errors: parsed body, request id, APIError.generate by status', async () => {
    const answers = [
      () => Response.json(thread, { headers: { 'x-request-id': 'req_1' } }),
      () => Response.json({ error: { message: 'No thread found', type: 'invalid_request_error' } }, { status: 404 }),
      () => Response.json({ error: { message: 'boom' } }, { status: 500, headers: { 'retry-after': '1' } }),
    ];
    for (const answer of answers) {
      const outcome = async (Client: typeof OpenAI | typeof LeanOpenAI) => {
        const { client } = recordingClient(Client, answer);
        return client.beta.threads.retrieve('thread_abc').then(
          (value) => ({ value, requestId: value._request_id }),
          (error: unknown) => ({
            name: (error as Error).constructor.name,
            status: (error as APIError).status,
            error: (error as APIError).error,
            message: (error as Error).message,
            retryAfter: (error as APIError).headers?.get('retry-after'),
          }),
        );
      };
      expect(await outcome(LeanOpenAI)).toEqual(await outcome(OpenAI));
    }
    const { client } = recordingClient(LeanOpenAI, answers[1] as () => Response);
    await expect(client.beta.threads.retrieve('thread_abc')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('sends the SDK’s user agent, not the subclass’s name', async () => {
    const [request] = await sentBy(LeanOpenAI, (client) => client.beta.threads.retrieve('thread_abc'));
    expect(request?.headers['user-agent']).toMatch(/^OpenAI\/JS \d/);
  });

  describe('with the gateway’s transport', () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => close?.());

    it('hands each attempt’s timeout to the transport instead of the SDK’s timer', async () => {
      const server = createServer((_req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(thread)), 300);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const transport = createUpstreamTransport();
      close = async () => {
        await transport.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      };
      const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const sdkTimer = vi.spyOn(OpenAI.prototype, 'fetchWithTimeout');
      const transportCalls = vi.spyOn(LeanOpenAI.prototype, 'fetchWithTimeout');
      const client = new LeanOpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0, fetch: transport.fetch });

      expect((await client.beta.threads.retrieve('thread_abc', { timeout: 2_000 })).id).toBe('thread_abc');
      await expect(client.beta.threads.retrieve('thread_abc', { timeout: 100 })).rejects.toBeInstanceOf(
        APIConnectionTimeoutError,
      );
      expect(transportCalls.mock.calls.map((args) => args[2])).toEqual([2_000, 100]);
      expect(sdkTimer).not.toHaveBeenCalled();
    });
  });
});
