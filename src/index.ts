// The package's public entry: build a gateway and mount it in another server, or compose it in-process.
export { createGateway, type Gateway, type GatewayOptions } from './app.ts';
export { type Config, ConfigError, loadConfig } from './config/config.ts';
export type { IdempotencyRecord, IdempotencyStore } from './features/idempotency/idempotency-store.ts';
