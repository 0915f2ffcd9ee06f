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

function unreadableTarget(req: IncomingMessage): boolean {
  const target = req.url ?? '';
  // Origin-form only: a path, never a scheme and authority that would override the Host.
  if (!target.startsWith('/')) return true;
  return !URL.canParse(`http://${req.headers.host ?? 'localhost'}${target}`);
}
