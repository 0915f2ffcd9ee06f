import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../../src/app.ts';

/** Puts a gateway on a free loopback port, for tests that drive it with real clients. */
export async function serveGateway(gateway: Gateway): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(gateway.requestListener);
  server.on('upgrade', gateway.upgradeListener);
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
