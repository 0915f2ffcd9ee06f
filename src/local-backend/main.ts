import { createLocalBackend } from './backend.ts';
import { serveLocalBackend } from './serve.ts';

// `npm run local-backend`: the embedded backend on its own, for any Threads client.
const port = Number(process.env.LOCAL_BACKEND_PORT ?? 4010);
const host = process.env.LOCAL_BACKEND_HOST ?? '127.0.0.1';
const apiKeys = (process.env.LOCAL_BACKEND_API_KEYS ?? '')
  .split(',')
  .map((key) => key.trim())
  .filter(Boolean);

if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`LOCAL_BACKEND_PORT must be a port number (0-65535), got "${process.env.LOCAL_BACKEND_PORT}"`);
  process.exit(1);
}

const served = await serveLocalBackend(createLocalBackend({ apiKeys }), { host, port });
console.log(`Threads local backend listening at ${served.url}`);
console.log(`Use it with OPENAI_BASE_URL=${served.url} and any OPENAI_API_KEY${apiKeys.length ? ' it accepts' : ''}.`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void served.close().then(() => process.exit(0));
  });
}
