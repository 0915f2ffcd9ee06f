import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the test server answers one request. */
export type ChatReply =
  /** `data: {chunk}` lines then `data: [DONE]`; with `intervalMs`, one chunk per interval (a model still writing). */
  | { kind: 'stream'; chunks: unknown[]; intervalMs?: number }
  /** The given chunks, then the connection is destroyed mid-stream (no [DONE]). */
  | { kind: 'drop'; chunks: unknown[] }
  | { kind: 'status'; status: number; body: unknown }
  /** Never answers (a model that hangs). */
  | { kind: 'hang' };

export interface ChatCompletionsServer {
  /** The base URL for LOCAL_BACKEND_MODEL_URL (ends in /v1). */
  url: string;
  /** Bodies and authorization headers of the requests received, in order. */
  requests: Array<{ path: string; authorization: string | undefined; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A `chat.completion.chunk` with one choice. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null, usage?: unknown) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'test-model',
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

function answer(res: ServerResponse, reply: ChatReply): void {
  if (reply.kind === 'hang') return;
  if (reply.kind === 'status') {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (reply.kind === 'stream' && reply.intervalMs) {
    void paced(res, reply.chunks, reply.intervalMs);
    return;
  }
  for (const item of reply.chunks) res.write(`data: ${JSON.stringify(item)}\n\n`);
  if (reply.kind === 'drop') {
    // Let the chunks reach the client, then cut the connection without an end.
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  res.end('data: [DONE]\n\n');
}

/** The chunks one per interval, stopping when the client went away (a cancelled run aborts its request). */
async function paced(res: ServerResponse, chunks: unknown[], intervalMs: number): Promise<void> {
  for (const item of chunks) {
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify(item)}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  res.end('data: [DONE]\n\n');
}

/**
 * A real HTTP server speaking the Chat Completions streaming wire format (server-sent events),
 * answering each request with `reply(body)`: what the local backend's model client meets in place
 * of a real model server.
 */
export async function startChatCompletionsServer(
  reply: (body: Record<string, unknown>, index: number) => ChatReply,
): Promise<ChatCompletionsServer> {
  const requests: ChatCompletionsServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (part: string) => {
      text += part;
    });
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      answer(res, reply(body, requests.length - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
