import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Yoga's Node adapter builds the request URL as `http://` + Host + the request target, and when
 * that is not a URL (an absolute-form target `GET http://x/graphql`, `OPTIONS *`, a Host such as
 * `[::1]x`) it fails before any plugin runs and answers 500 with the error's stack trace as the
 * body. Such a request is refused here first, 400 with a coded body, before Yoga sees it.
 */
export function createNodeListener(handler: NodeHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (unreadableTarget(req)) {
      const body = JSON.stringify({
        errors: [
          {
            message: 'The request target or Host is not a URL this server answers.',
            extensions: { code: 'BAD_REQUEST' },
          },
        ],
      });
      res.writeHead(400, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    void handler(req, res);
  };
}

/** A coded JSON answer written straight on a socket whose request Node's parser refused. */
function rawAnswer(status: string, code: string, message: string): string {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

const HEADERS_TOO_LARGE = rawAnswer(
  '431 Request Header Fields Too Large',
  'HEADERS_TOO_LARGE',
  'The request line and headers are over the 16 KB Node reads: send a long document in a POST body, or by its hash (docs/persisted-documents.md).',
);
const UNPARSABLE = rawAnswer('400 Bad Request', 'BAD_REQUEST', 'The request is not HTTP/1.1 this server can read.');

/**
 * For the server's `clientError`: a request Node's HTTP parser refuses (a request line and headers
 * over its 16 KB, a malformed one) gets a coded JSON answer like every other refusal, where Node
 * would send a bare status line with no body; a connection already gone is just closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(error.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : UNPARSABLE);
}

/**
 * Hosts of the plain shapes (a name or IPv4 address, or a bracketed IPv6 address, and a port) whose
 * verdict is kept: with such a Host, the URL's authority ends where the target's leading `/`
 * starts, and no path, query or fragment makes a URL unparsable, so the verdict is the Host's
 * alone. Any other Host is checked whole, every time.
 */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const MAX_KEPT_HOSTS = 256;
const hostVerdicts = new Map<string, boolean>();

function unreadableTarget(req: IncomingMessage): boolean {
  const target = req.url ?? '';
  // Origin-form only: a path, never a scheme and authority that would override the Host.
  if (!target.startsWith('/')) return true;
  const host = req.headers.host ?? 'localhost';
  if (!PLAIN_HOST.test(host)) return !URL.canParse(`http://${host}${target}`);
  let readable = hostVerdicts.get(host);
  if (readable === undefined) {
    readable = URL.canParse(`http://${host}/`);
    // Bounded: Hosts come from clients. Past the bound, start over rather than grow.
    if (hostVerdicts.size >= MAX_KEPT_HOSTS) hostVerdicts.clear();
    hostVerdicts.set(host, readable);
  }
  return !readable;
}
