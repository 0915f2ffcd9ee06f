import { createLocalBackend } from '../src/local-backend/backend.ts';
import { serveLocalBackend } from '../src/local-backend/serve.ts';

// The bench's upstream: the local backend over HTTP with 50 threads seeded, served by the same
// code as `npm run local-backend`. It counts every request it answers, so each system's upstream
// calls are counted the same way, at the upstream.
const backend = createLocalBackend();
const threads = await Promise.all(
  Array.from({ length: 50 }, (_, index) => backend.store.createThread({ metadata: { n: String(index) } })),
);
let answered = 0;
const handle = backend.handle;
backend.handle = (request) => {
  if (request.path === '/__bench/count') {
    return Promise.resolve({ status: 200, headers: {}, body: JSON.stringify({ answered }) });
  }
  answered++;
  return handle(request);
};
const served = await serveLocalBackend(backend);
process.send?.({ url: served.url, threads });
