import { ConfigError, type LocalBackendServerConfig, loadLocalBackendServerConfig } from '../config/config.ts';
import { createLocalBackend } from './backend.ts';
import { serveLocalBackend } from './serve.ts';
import { createStore } from './store/create-store.ts';
import type { Store } from './store/store.ts';

// `npm run local-backend`: the embedded backend on its own, for any Threads client.
let config: LocalBackendServerConfig;
try {
  config = loadLocalBackendServerConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
const { host, port, apiKeys } = config;

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
