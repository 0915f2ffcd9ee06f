import { serveGatewayForBench } from './serve-gateway.ts';

// The gateway on its embedded local backend, exactly as `npm start` with no key builds it; the
// runner (bench/local-stores.ts) picks the store with DATA_DIR, DATABASE_URL or LOCAL_BACKEND_STORE.
serveGatewayForBench();
