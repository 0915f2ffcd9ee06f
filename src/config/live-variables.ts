import type { Variable } from './declaration.ts';

/** Subscriptions (`runEvents`, `threadEvents`): docs/live.md. */
export const LIVE_VARIABLES = {
  RUN_EVENTS_TTL_S: {
    group: 'Live',
    kind: 'integer',
    default: 600,
    min: 10,
    max: 7 * 24 * 3600,
    unit: 's',
    description: 'How long a run’s event log is kept after its last event (a late `runEvents` replays it).',
  },
  RUN_EVENTS_MAX: {
    group: 'Live',
    kind: 'integer',
    default: 10_000,
    min: 100,
    max: 1_000_000,
    description:
      'Events one run’s log holds; past it, text deltas are not logged (messages and statuses are, up to twice it; past that, only how the run ended).',
  },
  RUN_EVENTS_MAX_BYTES: {
    group: 'Live',
    kind: 'integer',
    default: 128 * 1024 * 1024,
    min: 1024 * 1024,
    max: 64 * 1024 * 1024 * 1024,
    unit: 'bytes',
    description:
      'Bytes (as JSON) of all run event logs held in memory (no REDIS_URL); past it, the logs written to least lately go first.',
  },
  RUN_LEASE_S: {
    group: 'Live',
    kind: 'integer',
    default: 10,
    min: 2,
    max: 600,
    unit: 's',
    description: 'A run’s producer holds its lease this long unless renewed; another instance takes over after it.',
  },
  MAX_SUBSCRIPTIONS_PER_CALLER: {
    group: 'Live',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 1_000_000,
    description: 'Live subscriptions one caller may hold in one instance, over SSE and WebSocket together.',
  },
  MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    group: 'Live',
    kind: 'integer',
    default: 50,
    min: 1,
    max: 10_000,
    description: 'Live subscriptions on one WebSocket connection.',
  },
  SUBSCRIPTION_BUFFER_EVENTS: {
    group: 'Live',
    kind: 'integer',
    default: 1000,
    min: 10,
    max: 1_000_000,
    description:
      'Events one `threadEvents` subscription holds for a slow client; past it, it ends with `SUBSCRIPTION_OVERFLOW` (subscribe again). `runEvents` reads its run’s log: it never overflows.',
  },
  WEBSOCKET_PING_S: {
    group: 'Live',
    kind: 'integer',
    default: 15,
    min: 1,
    max: 3600,
    unit: 's',
    description:
      'WebSocket keep-alive: a ping this often; a connection that has not answered the last one is closed. SSE streams get a comment line as often.',
  },
} as const satisfies Record<string, Variable>;
