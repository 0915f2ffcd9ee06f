import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config/config.ts';
import { createAuthorizationCheck } from './auth.ts';
import { DIRECT_CONTENT_TYPE, directRequest, resultJson } from './direct-results.ts';
import { GRAPHQL_PATH, hostAllowed, hostPolicy } from './router.ts';

/** The graphql-transport-ws protocol (the `graphql-ws` library's), as this server speaks it. */
const PROTOCOL = 'graphql-transport-ws';
/** A client that has not sent connection_init by then is closed (the protocol's 4408). */
const INIT_TIMEOUT_MS = 3_000;
/** Bytes a connection may hold unsent before the gateway stops reading answers for it. */
const SEND_BUFFER_BYTES = 1024 * 1024;
const MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * A client this far behind that still sends is not reading: every message it sends may queue an
 * answer (an `error`, a `complete`) that only memory holds, so the connection is dropped instead.
 */
const MAX_BEHIND_BYTES = 4 * SEND_BUFFER_BYTES;
/**
 * At shutdown, a connection whose client has not answered the 1001 close by then is dropped: the
 * process waits for every connection to end, and one client that never reads must not hold it to
 * SHUTDOWN_DRAIN_MS (ws itself would wait 30 s for the answer).
 */
const CLOSE_GRACE_MS = 1_000;

export interface WebSocketDeps {
  config: Config;
  /** The gateway's one door: every operation goes through it, as an HTTP request would. */
  fetch: (request: Request) => Promise<Response>;
}

export interface WebSocketTransport {
  /** For `server.on('upgrade', …)`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every connection (shutdown), 1001 "going away". */
  close(): void;
}

function refuse(socket: Duplex, status: number, reason: string, code: string): void {
  const body = JSON.stringify({ errors: [{ message: reason, extensions: { code } }] });
  socket.end(
    `HTTP/1.1 ${status} ${reason.replace(/[^\x20-\x7e]/g, '')}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the GraphQL path, through the same door as HTTP:
 * the upgrade is checked like a request (path, Host allow-list) and, as browsers send an Origin on
 * every upgrade and no CORS preflight, its Origin too (same origin, or one CORS_ORIGINS lists); then
 * every operation is handed to the gateway as a POST with the connection's credentials (its
 * `connectionParams` token, else the upgrade's Authorization header), so every guard, limit and
 * budget of an HTTP request applies, and its results are passed on as messages (direct-results.ts).
 */
/** What each connection is served with: the transport's deps, and the token check of every request. */
type ConnectionDeps = WebSocketDeps & { authorize: ReturnType<typeof createAuthorizationCheck> };

export function createWebSocketTransport(deps: WebSocketDeps): WebSocketTransport {
  const { config } = deps;
  const connectionDeps: ConnectionDeps = { ...deps, authorize: createAuthorizationCheck(config) };
  const hosts = hostPolicy(config);
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
  const connections = new Set<WebSocket>();

  function crossSite(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    const host = req.headers.host ?? '';
    if (URL.canParse(origin) && new URL(origin).host === host.toLowerCase()) return false;
    // Only origins CORS_ORIGINS names (or `*` set explicitly): the default CORS answer for HTTP
    // without a key does not extend to sockets, which a page opens with the user's network position.
    const allowed = config.corsOrigins;
    return !(allowed === '*' || allowed?.includes(origin));
  }

  return {
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const pathname = (req.url ?? '').split('?')[0];
      if (pathname !== GRAPHQL_PATH) return refuse(socket, 404, 'Not Found', 'NOT_FOUND');
      if (!hostAllowed(hosts, req.headers.host ?? null)) {
        return refuse(socket, 421, 'Misdirected Request', 'MISDIRECTED_REQUEST');
      }
      if (crossSite(req)) return refuse(socket, 403, 'Forbidden', 'FORBIDDEN');
      const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
      if (!offered.some((protocol) => protocol.trim() === PROTOCOL)) {
        return refuse(socket, 400, `Use the ${PROTOCOL} subprotocol`, 'BAD_REQUEST');
      }
      server.handleUpgrade(req, socket, head, (ws) => {
        connections.add(ws);
        ws.once('close', () => connections.delete(ws));
        serveConnection(ws, socket, req, connectionDeps);
      });
    },
    close() {
      for (const ws of connections) ws.close(1001, 'going away');
      server.close();
      const open = [...connections];
      setTimeout(() => {
        for (const ws of open) ws.terminate();
      }, CLOSE_GRACE_MS).unref();
    },
  };
}

interface Subscribe {
  id: string;
  payload: {
    query?: unknown;
    documentId?: unknown;
    variables?: unknown;
    operationName?: unknown;
    extensions?: unknown;
  };
}

function parseMessage(data: RawData): { type?: unknown; id?: unknown; payload?: unknown } | undefined {
  try {
    const message: unknown = JSON.parse(data.toString());
    return message && typeof message === 'object' ? (message as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The token a client put in connectionParams (`authorization`, `Authorization` or `token`). */
function tokenOf(params: unknown): string | undefined {
  if (!params || typeof params !== 'object') return undefined;
  const record = params as Record<string, unknown>;
  const value = record.authorization ?? record.Authorization ?? record.token;
  if (typeof value !== 'string' || value === '') return undefined;
  return /^bearer /i.test(value) ? value : `Bearer ${value}`;
}

/**
 * Frames one write carries at most: as many as a connection holds operations by default, so an
 * event that reaches all of them is one write. A run's subscribers are woken a batch at a time
 * (run-event-log.ts), so each batch's frames go out as soon as they are built, not after the whole
 * fan-out (1,000 subscribers on 20 sockets: a fifth less CPU per delivery than ten frames a write,
 * docs/live.md).
 */
const FRAMES_PER_WRITE = 50;

/**
 * Sends text frames on `ws`, the frames of one turn of the event loop in writes of up to
 * FRAMES_PER_WRITE: an event that reaches several subscriptions of one connection (a client
 * multiplexes all its operations on one socket) costs the socket one system call, not one per
 * subscription.
 */
function frameSender(ws: WebSocket, socket: Duplex): (text: string) => void {
  let corked = false;
  let frames = 0;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    frames = 0;
    socket.uncork();
  };
  return (text) => {
    if (ws.readyState !== ws.OPEN) return;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    ws.send(text);
    if (++frames >= FRAMES_PER_WRITE) uncork();
  };
}

function serveConnection(ws: WebSocket, socket: Duplex, req: IncomingMessage, deps: ConnectionDeps): void {
  const sendText = frameSender(ws, socket);
  const { config } = deps;
  const running = new Map<string, AbortController>();
  let authorization = req.headers.authorization;
  let acknowledged = false;
  let alive = true;
  const send = (message: unknown) => sendText(JSON.stringify(message));
  // Checked after the loop's next poll for I/O: a connection_init that arrived while the process was
  // busy (timers run before pending socket reads) is read first, not refused for our own delay.
  const initTimer = setTimeout(
    () => setImmediate(() => acknowledged || ws.close(4408, 'Connection initialisation timeout')),
    INIT_TIMEOUT_MS,
  );
  const ping = setInterval(() => {
    // Half-open or idle-dead: the last ping went unanswered.
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, config.live.pingMs);
  ws.on('pong', () => {
    alive = true;
  });
  ws.on('error', () => ws.terminate());
  ws.once('close', () => {
    clearTimeout(initTimer);
    clearInterval(ping);
    for (const controller of running.values()) controller.abort();
    running.clear();
  });
  ws.on('message', (data) => {
    if (ws.bufferedAmount > MAX_BEHIND_BYTES) return ws.terminate();
    alive = true;
    const message = parseMessage(data);
    if (!message || typeof message.type !== 'string') return ws.close(4400, 'Invalid message');
    switch (message.type) {
      case 'connection_init': {
        if (acknowledged) return ws.close(4429, 'Too many initialisation requests');
        const token = tokenOf(message.payload);
        if (token) authorization = token;
        // Gateway tokens guard the gateway: a connection that brings none, or a wrong one, is not
        // kept open (each open socket costs the gateway memory and a ping timer).
        if (config.gatewayTokens.length > 0 && !deps.authorize(authorization).ok) return ws.close(4403, 'Forbidden');
        acknowledged = true;
        clearTimeout(initTimer);
        return send({ type: 'connection_ack' });
      }
      case 'ping':
        // A client that does not read gets no more answers: each pong (echoing up to 1 MB) would
        // otherwise wait in the gateway's memory, as many as the client cares to send.
        if (ws.bufferedAmount > SEND_BUFFER_BYTES) return;
        return send({ type: 'pong', ...(message.payload === undefined ? {} : { payload: message.payload }) });
      case 'pong':
        return;
      case 'subscribe': {
        if (!acknowledged) return ws.close(4401, 'Unauthorized');
        if (typeof message.id !== 'string' || !message.payload || typeof message.payload !== 'object') {
          return ws.close(4400, 'Invalid message');
        }
        if (running.has(message.id)) return ws.close(4409, `Subscriber for ${message.id} already exists`);
        if (running.size >= config.live.maxPerConnection) {
          const text = `At most ${config.live.maxPerConnection} operations per connection (MAX_SUBSCRIPTIONS_PER_CONNECTION).`;
          return send({
            id: message.id,
            type: 'error',
            payload: [{ message: text, extensions: { code: 'SUBSCRIPTION_LIMIT' } }],
          });
        }
        const controller = new AbortController();
        running.set(message.id, controller);
        const subscribe = message as Subscribe;
        void operate({ ws, sendText }, deps, req, authorization, subscribe, controller.signal)
          .catch(() => {
            // A client that completed the operation hears nothing more of it (the protocol).
            if (!controller.signal.aborted) {
              send({ id: subscribe.id, type: 'error', payload: [{ message: 'The operation failed.' }] });
            }
          })
          .finally(() => {
            if (running.get(subscribe.id) === controller) running.delete(subscribe.id);
          });
        return;
      }
      case 'complete': {
        const id = typeof message.id === 'string' ? message.id : '';
        running.get(id)?.abort();
        running.delete(id);
        return;
      }
      default:
        return ws.close(4400, 'Invalid message');
    }
  });
}

/** Waits while the connection holds more than SEND_BUFFER_BYTES unsent: a slow reader slows the operation, never grows memory. */
async function drained(ws: WebSocket, signal: AbortSignal): Promise<void> {
  while (ws.bufferedAmount > SEND_BUFFER_BYTES && ws.readyState === ws.OPEN && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The operation as the POST that goes through the door; undefined when its headers cannot be sent. */
function operationRequest(
  req: IncomingMessage,
  authorization: string | undefined,
  payload: Subscribe['payload'],
  signal: AbortSignal,
): Request | undefined {
  // The POST's own fields, a trusted document's id among them (docs/persisted-documents.md).
  const body = JSON.stringify({
    query: payload.query,
    documentId: payload.documentId,
    variables: payload.variables,
    operationName: payload.operationName,
    extensions: payload.extensions,
  });
  try {
    const headers = new Headers({ 'content-type': 'application/json', accept: 'text/event-stream' });
    if (req.headers.host) headers.set('host', req.headers.host);
    if (authorization) headers.set('authorization', authorization);
    const url = `http://${req.headers.host ?? 'localhost'}${GRAPHQL_PATH}`;
    return new Request(url, { method: 'POST', headers, body, signal });
  } catch {
    return undefined;
  }
}

/** One operation: a POST through the door, its result (one, or an event per item) passed on as messages. */
async function operate(
  { ws, sendText }: { ws: WebSocket; sendText: (text: string) => void },
  deps: WebSocketDeps,
  req: IncomingMessage,
  authorization: string | undefined,
  { id, payload }: Subscribe,
  signal: AbortSignal,
): Promise<void> {
  // Read on every event: a plain flag, not the signal's getter (which checks its receiver each time).
  let stopped = signal.aborted;
  const onAbort = () => {
    stopped = true;
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const send = (text: string) => {
    if (!stopped) sendText(text);
  };
  const request = operationRequest(req, authorization, payload, signal);
  if (!request) {
    // A token or Host that no HTTP request could carry (a newline, a character past Latin-1, …).
    const message = 'The connection’s token or Host header is not a valid HTTP header value.';
    return send(JSON.stringify({ id, type: 'error', payload: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
  }
  const direct = directRequest(request);
  const response = await deps.fetch(request);
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  const result = direct.take();
  if (response.headers.get('content-type') !== DIRECT_CONTENT_TYPE || !result) {
    // Refused before execution (401, 400, …): the protocol's `error` message, with the coded errors.
    const answer = (await response.json().catch(() => ({}))) as { errors?: unknown[] };
    const errors = answer.errors ?? [{ message: `Refused (${response.status}).` }];
    return send(JSON.stringify({ id, type: 'error', payload: errors }));
  }
  if (!isAsyncIterable(result)) {
    send(`${prefix}${resultJson(result)}}`);
  } else {
    // Each event is serialised once, into the message itself (direct-results.ts).
    const iterator = result[Symbol.asyncIterator]();
    const stop = () => void iterator.return?.()?.catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        let item: IteratorResult<ExecutionResult>;
        try {
          item = await iterator.next();
        } catch {
          break;
        }
        if (item.done || stopped) break;
        if (ws.bufferedAmount > SEND_BUFFER_BYTES) await drained(ws, signal);
        send(`${prefix}${resultJson(item.value)}}`);
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
  send(JSON.stringify({ id, type: 'complete' }));
}
