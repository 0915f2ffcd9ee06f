import { ConfigError, type LocalBackendConfig, loadLocalBackendConfig } from '../config/config.ts';
import { createLocalBackend } from './backend.ts';
import { serveLocalBackend } from './serve.ts';
import { createStore } from './store/create-store.ts';
import type { Store } from './store/store.ts';

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

let config: LocalBackendConfig;
try {
  config = loadLocalBackendConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

// Run alone, the backend opens its store before listening: a wrong DATA_DIR or DATABASE_URL stops it here.
let store: Store;
try {
  store = await createStore(config, {
    onBackgroundError: (error) => console.error(`store connection error: ${error.message}`),
    onWarning: (message) => console.error(`warning: ${message}`),
  });
} catch (error) {
  console.error(
    `Cannot open the ${config.store.kind} store: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}

const where = config.store.kind === 'sqlite' ? ` in ${config.store.dataDir}` : '';
const backend = createLocalBackend({ apiKeys, store, maxBodyBytes: config.maxBodyBytes, runs: config.runs });
const served = await serveLocalBackend(backend, {
  host,
  port,
  maxBodyBytes: config.maxBodyBytes,
});
console.log(`Threads local backend listening at ${served.url} (${config.store.kind} store${where})`);
console.log(`Use it with OPENAI_BASE_URL=${served.url} and any OPENAI_API_KEY${apiKeys.length ? ' it accepts' : ''}.`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void served
      .close()
      .then(() => backend.stop())
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}
