import type { Config } from '../config/config.ts';
import { RedisChannels } from '../features/redis/redis-channels.ts';
import type { RedisConnection } from '../features/redis/redis-connection.ts';
import type { Logger } from '../logger.ts';
import type { UpstreamSession } from '../upstream/calls/call-session.ts';
import type { UpstreamApi } from '../upstream/upstream-api.ts';
import { KeyedCount } from './keyed-count.ts';
import { Live } from './live.ts';
import { LiveUpstreamApi } from './live-upstream-api.ts';
import { MemoryRunEventLog } from './memory-run-event-log.ts';
import { RedisRunEventLog } from './redis-run-event-log.ts';
import type { RunEventLog } from './run-event-log.ts';
import { MemoryRunLeases, RedisRunLeases, type RunLeases } from './run-leases.ts';
import { RunProducers } from './run-producer.ts';
import { MemoryThreadEventBus, RedisThreadEventBus, type ThreadEventBus } from './thread-event-bus.ts';

export interface LiveSystem {
  readonly live: Live;
  /** The upstream API with live events: the one the graph must use. */
  readonly upstream: UpstreamApi;
  close(): Promise<void>;
}

/** Subscriptions' parts: in memory per instance, or shared through Redis with REDIS_URL (docs/live.md). */
export function createLive(
  config: Config,
  upstream: UpstreamApi,
  redis: RedisConnection | undefined,
  logger: Logger,
  /** Told of each upstream call a producer makes (the metrics of every other call). */
  onCall?: UpstreamSession['onCall'],
) {
  const options = {
    ttlMs: config.live.runEventsTtlMs,
    maxEvents: config.live.runEventsMax,
    maxBytes: config.live.runEventsMaxBytes,
  };
  const channels = redis ? new RedisChannels(redis) : undefined;
  const log: RunEventLog =
    redis && channels ? new RedisRunEventLog(redis, channels, options) : new MemoryRunEventLog(options);
  const leases: RunLeases = redis ? new RedisRunLeases(redis) : new MemoryRunLeases();
  const bus: ThreadEventBus = channels ? new RedisThreadEventBus(channels) : new MemoryThreadEventBus();
  const followers = new KeyedCount();
  const producers = new RunProducers({
    log,
    leases,
    bus,
    upstream,
    followers,
    maxEvents: config.live.runEventsMax,
    leaseMs: config.live.runLeaseMs,
    callDeadlineMs: config.requestDeadlineMs,
    logger,
    ...(onCall ? { onCall } : {}),
  });
  const live = new Live({ config: config.live, log, bus, producers, followers });
  return {
    live,
    upstream: new LiveUpstreamApi(upstream, bus, producers),
    close: async () => {
      live.shutdown();
      await log.close();
      channels?.close();
    },
  } satisfies LiveSystem;
}
