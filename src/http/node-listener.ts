import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Yoga's Node adapter builds the request URL as `http://` + Host + the request target, and when
 * that is not a URL (an absolute-form target `GET http://x/graphql`, `OPTIONS *`, a Host such as
 * `[::1]x`) it fails before any plugin runs and answers 500 with the error's stack trace as the
 * body. Such a request is refused here first, 400 with a coded body, before Yoga sees it, and
 * so is a target with dot segments (the path it names is not the path it would be served at).
 */
export function createNodeListener(handler: NodeHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (unreadableTarget(req)) {
      const body = codedBody('BAD_REQUEST', 'The request target or Host is not a URL this server answers.');
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

/** A GraphQL error body with one coded error, as every refusal here answers. */
function codedBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/** A coded JSON answer written straight on a socket whose request Node's parser refused. */
function rawAnswer(status: string, code: string, message: string): string {
  const body = codedBody(code, message);
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Node's parser errors, answered as Node answers them (status), with a coded JSON body. */
const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: rawAnswer(
    '431 Request Header Fields Too Large',
    'HEADERS_TOO_LARGE',
    'The request line and headers are over the 16 KB Node reads: send a long document in a POST body, or by its hash (docs/persisted-documents.md).',
  ),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: rawAnswer(
    '413 Payload Too Large',
    'PAYLOAD_TOO_LARGE',
    'The chunk extensions of the request body are over what Node reads.',
  ),
  ERR_HTTP_REQUEST_TIMEOUT: rawAnswer(
    '408 Request Timeout',
    'REQUEST_TIMEOUT',
    'The request line, headers and body did not arrive in time.',
  ),
};
const UNPARSABLE = rawAnswer('400 Bad Request', 'BAD_REQUEST', 'The request is not HTTP/1.1 this server can read.');

/**
 * For the server's `clientError`: a request Node's HTTP parser refuses (a request line and headers
 * over its 16 KB, a malformed one, one that came too slowly) gets a coded JSON answer like every
 * other refusal, with the status Node would send bare. As Node does, only on a connection that has
 * written nothing (never inside an answer already under way), and the connection is then closed
 * whatever the client does; a connection already gone is just closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
  if (error.code === 'ECONNRESET' || !socket.writable || written > 0) {
    socket.destroy();
    return;
  }
  socket.end(ANSWERS[error.code ?? ''] ?? UNPARSABLE, () => socket.destroy());
}

/**
 * Hosts of the plain shapes (a name or IPv4 address, or a bracketed IPv6 address, and a port) whose
 * verdict is kept: with such a Host, the URL's authority ends where the target's leading `/`
 * starts, and no path, query or fragment makes a URL unparsable, so the verdict is the Host's
 * alone. Any other Host is checked whole, every time.
 */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const AUTHORITY_ENDS = /[/?#\\@\s]/;
const MAX_KEPT_HOSTS = 256;
const hostVerdicts = new Map<string, boolean>();

/**
 * A `.` or `..` segment, as it is or percent-encoded, between `/` or `\\` (both end a segment in
 * an http URL). The URL parser removes such segments, so `/x/../graphql` and `/graphql/%2e%2e/metrics`
 * would be served as `/graphql` and `/metrics`, while a proxy routing on the raw prefix saw another
 * path: such a target is refused, never resolved.
 */
const DOT_SEGMENT = /(?:^|[/\\])(?:\.|%2e){1,2}(?:[/\\?#]|$)/i;

function unreadableTarget(req: IncomingMessage): boolean {
  const target = req.url ?? '';
  // Origin-form only: a path, never a scheme and authority that would override the Host.
  if (!target.startsWith('/')) return true;
  if (DOT_SEGMENT.test(target.split('?', 1)[0] ?? '')) return true;
  const host = req.headers.host ?? 'localhost';
  if (!PLAIN_HOST.test(host)) {
    // A Host that ends the authority (`/`, `?`, `#`, `\`, userinfo) would move the request's path:
    // `Host: gw/metrics?` on `GET /health` would be routed as /metrics.
    return AUTHORITY_ENDS.test(host) || !URL.canParse(`http://${host}${target}`);
  }
  let readable = hostVerdicts.get(host);
  if (readable === undefined) {
    readable = URL.canParse(`http://${host}/`);
    // Bounded: Hosts come from clients. Past the bound, start over rather than grow.
    if (hostVerdicts.size >= MAX_KEPT_HOSTS) hostVerdicts.clear();
    hostVerdicts.set(host, readable);
  }
  return !readable;
}
