import { createLocalBackend } from '../src/local-backend/backend.ts';
import { serveLocalBackend } from '../src/local-backend/serve.ts';

// The bench's upstream: the local backend over HTTP with 50 threads seeded, served by the same
// code as `npm run local-backend`. It counts every request it answers, so each system's upstream
// calls are counted the same way, at the upstream.
const backend = createLocalBackend();
// Each thread holds 30 messages, so `messages(first: 20)` reads a full page with more to come.
const threads = await Promise.all(
  Array.from({ length: 50 }, (_, index) =>
    backend.store.createThread({
      metadata: { n: String(index) },
      messages: Array.from({ length: 30 }, (_, message) => ({
        role: message % 2 ? 'assistant' : 'user',
        content: [{ type: 'text', text: { value: `message ${message} of thread ${index}`, annotations: [] } }],
      })),
    }),
  ),
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
