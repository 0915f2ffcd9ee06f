import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A small real HTTP upstream that speaks OpenAI's `/v1/conversations…` and `/v1/responses…` the
 * way the live API does for background responses: a create answers `queued`, the next retrieve
 * `in_progress`, the one after that the final response (its output items then join the
 * conversation). What a response does is scripted by its `metadata.script`:
 * - `reply` (default): a message `echo: <instructions>`;
 * - `tools`: two rounds of function calls (`get_weather`, then `get_time`), then a message naming
 *   the outputs it was given;
 * - `fail`: failed with `{code: "server_error", message: "The model broke down."}`;
 * - `slow`: stays `in_progress` until cancelled.
 * Usage: every final response reports 10 input and 5 output tokens.
 */

interface StoredResponse {
  body: Record<string, unknown>;
  reads: number;
  final: Record<string, unknown>;
}

export interface ResponsesUpstream {
  url: string;
  seen: Array<{ method: string; path: string; body: string; headers: Record<string, unknown> }>;
  conversations: Map<string, { id: string; items: Record<string, unknown>[] }>;
  count(method: string, path?: RegExp): number;
  createConversation(): string;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

function finalResponse(body: Record<string, unknown>, round: number): Record<string, unknown> {
  const metadata = (body.metadata ?? {}) as Record<string, string>;
  const input = Array.isArray(body.input) ? (body.input as Array<Record<string, unknown>>) : [];
  const outputs = input.filter((item) => item.type === 'function_call_output').map((item) => item.output);
  const usage = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
  const message = (text: string) => ({
    type: 'message',
    id: id('msg'),
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  const call = (name: string, args: string) => ({
    type: 'function_call',
    id: id('fc'),
    call_id: id('call'),
    name,
    arguments: args,
    status: 'completed',
  });
  switch (metadata.script) {
    case 'fail':
      return { status: 'failed', error: { code: 'server_error', message: 'The model broke down.' }, output: [] };
    case 'tools':
      if (round === 0) return { status: 'completed', output: [call('get_weather', '{"city":"Oslo"}')], usage };
      if (round === 1) {
        return { status: 'completed', output: [message('checking the time'), call('get_time', '{}')], usage };
      }
      return { status: 'completed', output: [message(`tools said: ${outputs.join(', ')}`)], usage };
    default:
      return { status: 'completed', output: [message(`echo: ${String(body.instructions ?? '')}`)], usage };
  }
}

export async function startResponsesUpstream(): Promise<ResponsesUpstream> {
  const conversations = new Map<string, { id: string; items: Record<string, unknown>[] }>();
  const responses = new Map<string, StoredResponse>();
  const rounds = new Map<string, number>();
  const sockets = new Set<Socket>();

  const shape = (responseId: string, stored: StoredResponse, status: string, extra: Record<string, unknown> = {}) => ({
    id: responseId,
    object: 'response',
    created_at: 1_700_000_000,
    status,
    model: stored.body.model,
    conversation: { id: stored.body.conversation },
    background: true,
    instructions: stored.body.instructions ?? null,
    metadata: stored.body.metadata ?? {},
    output: [],
    usage: null,
    error: null,
    incomplete_details: null,
    ...extra,
  });

  const finish = (responseId: string, stored: StoredResponse) => {
    const conversation = conversations.get(String(stored.body.conversation));
    conversation?.items.push(...((stored.final.output as Record<string, unknown>[]) ?? []));
    return shape(responseId, stored, String(stored.final.status), { ...stored.final, completed_at: 1_700_000_100 });
  };

  const handle = (method: string, path: string, body: Record<string, unknown>): [number, unknown] => {
    const url = new URL(path, 'http://upstream.test');
    const parts = url.pathname.replace(/^\/v1\//, '').split('/');
    if (parts[0] === 'conversations') {
      const conversation = conversations.get(parts[1] ?? '');
      if (method === 'POST' && parts.length === 1) {
        const created = upstream.createConversation();
        return [200, { id: created, object: 'conversation', created_at: 1_700_000_000, metadata: {} }];
      }
      const known = (parts.length === 2 && method === 'GET') || (parts[2] === 'items' && method === 'GET');
      if (known && !conversation)
        return [404, { error: { message: 'No conversation', type: 'invalid_request_error' } }];
      if (conversation && parts.length === 2 && method === 'GET') {
        return [200, { id: conversation.id, object: 'conversation', created_at: 1_700_000_000, metadata: {} }];
      }
      if (conversation && parts[2] === 'items' && method === 'GET') {
        return [200, { object: 'list', data: conversation.items, has_more: false, first_id: null, last_id: null }];
      }
    }
    if (parts[0] === 'responses') {
      if (method === 'POST' && parts.length === 1) {
        const conversation = conversations.get(String(body.conversation));
        if (!conversation) return [404, { error: { message: 'No conversation', type: 'invalid_request_error' } }];
        if (Array.isArray(body.input)) conversation.items.push(...(body.input as Record<string, unknown>[]));
        const key = String(body.conversation);
        const round = rounds.get(key) ?? 0;
        rounds.set(key, round + 1);
        const responseId = id('resp');
        const stored = { body, reads: 0, final: finalResponse(body, round) };
        responses.set(responseId, stored);
        return [200, shape(responseId, stored, 'queued')];
      }
      const responseId = parts[1] ?? '';
      const stored = responses.get(responseId);
      if (!stored) return [404, { error: { message: 'No response', type: 'invalid_request_error' } }];
      const metadata = (stored.body.metadata ?? {}) as Record<string, string>;
      if (method === 'POST' && parts[2] === 'cancel') {
        stored.final = { status: 'cancelled', output: [] };
        stored.reads = 2;
        return [200, shape(responseId, stored, 'cancelled')];
      }
      if (method === 'GET' && parts.length === 2) {
        stored.reads += 1;
        if (stored.reads === 1 || (metadata.script === 'slow' && stored.final.status !== 'cancelled')) {
          return [200, shape(responseId, stored, 'in_progress')];
        }
        return [
          200,
          stored.reads === 2
            ? finish(responseId, stored)
            : shape(responseId, stored, String(stored.final.status), { ...stored.final, completed_at: 1_700_000_100 }),
        ];
      }
    }
    return [404, { error: { message: `unknown_url ${method} ${path}`, type: 'invalid_request_error' } }];
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (!path.includes('gatewayreadinessprobe')) upstream.seen.push({ method, path, body: text, headers: req.headers });
    const [status, answer] = handle(method, path, text ? (JSON.parse(text) as Record<string, unknown>) : {});
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const upstream: ResponsesUpstream = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen: [],
    conversations,
    count(method, path) {
      return this.seen.filter((seen) => seen.method === method && (!path || path.test(seen.path))).length;
    },
    createConversation() {
      const created = id('conv');
      conversations.set(created, { id: created, items: [] });
      return created;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return upstream;
}
