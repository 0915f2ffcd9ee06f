import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readLimited } from '../http/read-limited.ts';
import type { LocalBackend } from './backend.ts';
import { type AnswerStream, type BackendAnswer, type BackendRequest, bodyTooLarge } from './http/answer.ts';
import { DEFAULT_MAX_BODY_BYTES } from './http/body-limit.ts';

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Request bodies larger than this are answered 413 without being read. Default 2 MiB. */
  maxBodyBytes?: number;
}

/** A Node request, its body already read, as the backend's handler takes it. */
export function fromNode(req: IncomingMessage, body: string): BackendRequest {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: query === -1 ? url : url.slice(0, query),
    search: query === -1 ? '' : url.slice(query + 1),
    header: (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    text: async () => body,
  };
}

function send(res: ServerResponse, answer: BackendAnswer, close = false): void {
  if (answer.stream) {
    void writeStream(res, answer, answer.stream);
    return;
  }
  res.writeHead(answer.status, {
    ...answer.headers,
    'content-length': Buffer.byteLength(answer.body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(answer.body);
}

/** Resolves once the socket takes more (or is gone). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * A streamed answer, piece by piece: the next piece is asked for only once the socket took the last
 * one, so a client that does not read holds the stream back (bounded by the stream's own buffer).
 * A client that goes away closes the stream, which stops waiting at once.
 */
/** A streamed answer, each piece written when the client took the last (also the benchmark's upstream). */
export async function writeStream(res: ServerResponse, answer: BackendAnswer, stream: AnswerStream): Promise<void> {
  res.once('close', () => stream.close());
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
  try {
    for (let piece = await stream.next(); piece !== undefined && !res.destroyed; piece = await stream.next()) {
      if (!res.write(piece)) await drained(res);
    }
    res.end();
  } catch {
    // The stream itself failed: nothing sensible is left to write on an answer already begun.
    res.destroy();
  } finally {
    stream.close();
  }
}

/** Puts a local backend on a loopback port; resolves with its base URL (ending in `/v1`). */
export async function serveLocalBackend(
  backend: LocalBackend,
  { host = '127.0.0.1', port = 0, maxBodyBytes = DEFAULT_MAX_BODY_BYTES }: ServeOptions = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  // Plain node:http, no fetch objects: this is the upstream of the benchmark and of tests.
  const server = createServer((req, res) => {
    const declared = Number(req.headers['content-length']);
    readLimited(req, maxBodyBytes, Number.isFinite(declared) ? declared : undefined)
      .then(async (body) => {
        if (body === undefined) {
          // Answer and drop the connection: the rest of the body is never read.
          res.once('finish', () => req.destroy());
          send(res, bodyTooLarge(maxBodyBytes), true);
          return;
        }
        send(res, await backend.handle(fromNode(req, body)));
      })
      .catch(() => {
        // The client went away mid-body (or the socket failed): nobody is left to answer.
        req.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
