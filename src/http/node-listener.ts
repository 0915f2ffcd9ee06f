import type { IncomingMessage, ServerResponse } from 'node:http';

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
