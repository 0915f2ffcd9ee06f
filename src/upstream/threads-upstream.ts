// The Threads calls moved to `threads-rest/threads-rest-api.ts` (the `UpstreamApi` adapter) and
// `upstream-calls.ts` (the per-call machinery). These type names stay importable from here for
// `transport.ts` and `server/metrics.ts` until their owners import from `upstream-calls.ts`.
export type { UpstreamCallRecord, UpstreamFetch } from './upstream-calls.ts';
