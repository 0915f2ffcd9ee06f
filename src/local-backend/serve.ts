import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import type { LocalBackend } from './backend.ts';

/** Puts a local backend on a loopback port; resolves with its base URL (ending in `/v1`). */
export async function serveLocalBackend(
  backend: LocalBackend,
  { host = '127.0.0.1', port = 0 }: { host?: string; port?: number } = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(createServerAdapter((request: Request) => backend.fetch(request)));
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
