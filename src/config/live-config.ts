import { type Env, readVariable } from './variables.ts';

/** Subscriptions' settings (live-variables.ts declares each; docs/live.md explains them). */
export interface LiveConfig {
  readonly runEventsTtlMs: number;
  readonly runEventsMax: number;
  readonly runEventsMaxBytes: number;
  readonly runLeaseMs: number;
  readonly maxPerCaller: number;
  readonly maxPerConnection: number;
  readonly bufferEvents: number;
  readonly pingMs: number;
}

export function loadLiveConfig(env: Env): LiveConfig {
  return Object.freeze({
    runEventsTtlMs: readVariable(env, 'RUN_EVENTS_TTL_S') * 1000,
    runEventsMax: readVariable(env, 'RUN_EVENTS_MAX'),
    runEventsMaxBytes: readVariable(env, 'RUN_EVENTS_MAX_BYTES'),
    runLeaseMs: readVariable(env, 'RUN_LEASE_S') * 1000,
    maxPerCaller: readVariable(env, 'MAX_SUBSCRIPTIONS_PER_CALLER'),
    maxPerConnection: readVariable(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION'),
    bufferEvents: readVariable(env, 'SUBSCRIPTION_BUFFER_EVENTS'),
    pingMs: readVariable(env, 'WEBSOCKET_PING_S') * 1000,
  });
}
