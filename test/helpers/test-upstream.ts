import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Gateway } from '../../src/app.ts';
import { createLocalBackend, type LocalBackend } from '../../src/local-backend/backend.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { testGateway } from './gateway.ts';

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Milliseconds since the server started. */
  at: number;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Pass the request to the wrapped local backend, then optionally spoil its answer. */
  | { forward: true; spoil?: 'drop-connection' | 'hang' | { status: number; body?: unknown } }
  | 'hang'
  | 'drop-connection';

export type Handler = (request: SeenRequest, index: number) => Reply | Promise<Reply>;

/**
 * A real HTTP upstream for tests: it records every request, answers as `handler` says, and by
 * default forwards to a local backend, so a test can inject one fault and keep the rest real.
 */
export interface TestUpstream {
  url: string;
  backend: LocalBackend;
  /** The backend's store, to seed threads and count what a test left behind. */
  store: MemoryStore;
  /** Requests of GraphQL work; the gateway's readiness probes are kept apart in `probes`. */
  seen: SeenRequest[];
  probes: SeenRequest[];
  handler: Handler;
  /** Requests whose method and path match. */
  count(method: string, path?: RegExp): number;
  /** The most requests in flight at once so far. */
  peakInFlight: number;
  close(): Promise<void>;
}

export async function startTestUpstream(
  handler: Handler = () => ({ forward: true }),
  {
    handleProbes = false,
    port = 0,
    modelUrl,
  }: {
    /** The backend's runs use this Chat Completions server (else only the built-in `echo` model). */
    modelUrl?: string;
    /** Let `handler` answer the readiness probes too (else they reach the backend). */
    handleProbes?: boolean;
    /** A fixed port (tests of a late upstream); 0 takes a free one. */
    port?: number;
  } = {},
): Promise<TestUpstream> {
  const store = new MemoryStore();
  const backend = createLocalBackend({ store, ...(modelUrl ? { runs: { model: { url: modelUrl } } } : {}) });
  const started = performance.now();
  const sockets = new Set<Socket>();
  let inFlight = 0;

  const upstream: TestUpstream = {
    url: '',
    backend,
    store,
    seen: [],
    probes: [],
    handler,
    peakInFlight: 0,
    count(method, path) {
      return this.seen.filter((request) => request.method === method && (!path || path.test(request.path))).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const forward = async (request: SeenRequest): Promise<Response> => {
    const init: RequestInit = { method: request.method, headers: request.headers as Record<string, string> };
    if (request.method !== 'GET' && request.method !== 'HEAD') init.body = request.body;
    return backend.fetch(new Request(`http://upstream.test${request.path}`, init));
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? {});
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/html' : 'application/json',
      ...headers,
    });
    res.end(text);
  };

  const server: Server = createServer(async (req, res) => {
    const probing = (req.url ?? '').includes('gatewayreadinessprobe');
    if (!probing) {
      inFlight++;
      upstream.peakInFlight = Math.max(upstream.peakInFlight, inFlight);
      res.on('close', () => inFlight--);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: performance.now() - started,
    };
    const isProbe = seen.path.includes('gatewayreadinessprobe');
    const index = isProbe ? upstream.probes.push(seen) - 1 : upstream.seen.push(seen) - 1;
    const reply = isProbe && !handleProbes ? { forward: true as const } : await upstream.handler(seen, index);
    if (reply === 'hang') return;
    if (reply === 'drop-connection') {
      req.socket.destroy();
      return;
    }
    if ('forward' in reply) {
      const answer = await forward(seen);
      if (reply.spoil === 'hang') return;
      if (reply.spoil === 'drop-connection') {
        req.socket.destroy();
        return;
      }
      if (reply.spoil) {
        send(res, reply.spoil.status, reply.spoil.body);
        return;
      }
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      // A streamed answer (a run or response with `stream: true`) is passed on as it is written.
      if (answer.body && (answer.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const reader = answer.body.getReader();
        for (let part = await reader.read(); !part.done && !res.destroyed; part = await reader.read()) {
          res.write(part.value);
        }
        res.end();
        return;
      }
      res.end(await answer.text());
      return;
    }
    send(res, reply.status, reply.body, reply.headers);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return upstream;
}

/** A thread with `count` messages (user, assistant, user, …) in the test upstream's store. */
export async function seedThread(upstream: TestUpstream, count: number): Promise<{ id: string; messageIds: string[] }> {
  const thread = await upstream.store.createThread({});
  const messageIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const message = await upstream.store.createMessage(thread.id, {
      role: index % 2 ? 'assistant' : 'user',
      content: [{ type: 'text', text: { value: `m${index}`, annotations: [] } }],
    });
    messageIds.push(message?.id ?? '');
  }
  return { id: thread.id, messageIds };
}

/** A test upstream and a gateway holding a server key for it: the usual pair of a test. */
export async function startServerKeyGateway(
  env: Record<string, string> = {},
  handler?: Handler,
): Promise<{ upstream: TestUpstream; gateway: Gateway }> {
  const upstream = await startTestUpstream(handler);
  return { upstream, gateway: testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, ...env }) };
}

/** Closes whatever a test opened, gateways before the upstreams they call. */
export async function closeAll(...open: Array<{ close(): Promise<void> } | undefined>): Promise<void> {
  for (const item of open) await item?.close();
}
