import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../../src/app.ts';

/** Puts a gateway on a free loopback port, for tests that drive it with real clients. */
export async function serveGateway(gateway: Gateway): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(gateway.requestListener);
  server.on('upgrade', gateway.upgradeListener);
  server.on('clientError', gateway.clientErrorListener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One operation POSTed to a served gateway over real HTTP, its answer as JSON. */
export async function postOperation(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{
  data?: Record<string, Record<string, string>>;
  errors?: Array<{ extensions?: Record<string, unknown> }>;
}> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as {
    data?: Record<string, Record<string, string>>;
    errors?: Array<{ extensions?: Record<string, unknown> }>;
  };
}

/** One subscription POSTed to a served gateway asking for SSE; the answer as it comes (readSse reads it). */
export function postSubscription(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
  });
}
