import { serveGatewayForBench } from './serve-gateway.ts';

// Our gateway exactly as `npm start` builds it (server key, real SDK and HTTP to the upstream).
serveGatewayForBench();
