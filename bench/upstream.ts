import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import { createLocalBackend } from '../src/local-backend/backend.ts';

// The bench's upstream: the local backend over HTTP with 50 threads seeded. It counts every
// request it answers, so each system's upstream calls are counted the same way, at the upstream.
const backend = createLocalBackend();
const threads = Array.from({ length: 50 }, (_, index) => backend.store.create({ metadata: { n: String(index) } }));
let answered = 0;

const adapter = createServerAdapter(async (request: Request) => {
  const { pathname } = new URL(request.url);
  if (pathname === '/__bench/count') return Response.json({ answered });
  answered++;
  return backend.fetch(request);
});
const server = createServer(adapter);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}/v1`, threads });
});
