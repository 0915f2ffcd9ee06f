import type { RedisChannels } from '../features/redis/redis-channels.ts';
import { luaScript, type RedisConnection } from '../features/redis/redis-connection.ts';
import type { LoggedRunEvent, RunEvent } from './events.ts';
import { kept, LogWaiters, type RunEventLog, type RunEventLogOptions } from './run-event-log.ts';

/**
 * Appends at an exact place, or not at all: the stream's last id must be the one before `seq`
 * (entry ids are `seq+1`-0, so an empty stream expects seq 0). Trims nothing: a log is bounded by
 * what the producer keeps (`kept`) and dropped whole by its expiry.
 */
const APPEND = luaScript(
  `local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local length = 0
if #last > 0 then length = tonumber(string.match(last[1][1], '^(%d+)')) end
if length ~= tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], (length + i - 2) .. '-0', 'e', ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
  1,
);

/** One channel for every run's notifications: an instance wakes the subscribers it has, if any. */
const CHANNEL = 'live:run-appended';

/**
 * Each run's log as a Redis Stream (`<prefix>live:run:<id>`), so every instance reads what any
 * produced. Appends notify on one pub/sub channel; subscribers also look again after `maxWaitMs`,
 * so a lost notification delays an event, never loses it. Concurrent identical reads (a thousand
 * subscribers of one run woken by one event) are one XRANGE.
 */
export class RedisRunEventLog implements RunEventLog {
  readonly kind = 'redis';
  readonly #redis: RedisConnection;
  readonly #channels: RedisChannels;
  readonly #options: RunEventLogOptions;
  readonly #waiters = new LogWaiters();
  readonly #reads = new Map<string, Promise<LoggedRunEvent[] | null>>();
  readonly #stopListening: () => void;

  constructor(redis: RedisConnection, channels: RedisChannels, options: RunEventLogOptions) {
    this.#redis = redis;
    this.#channels = channels;
    this.#options = options;
    redis.register(APPEND);
    this.#stopListening = channels.listen(channels.channel(CHANNEL), (runId) => {
      if (this.#waiters.has(runId)) this.#waiters.wake(runId);
    });
  }

  #key(runId: string): string {
    return `${this.#redis.keyPrefix}live:run:${runId}`;
  }

  async append(runId: string, seq: number, events: readonly RunEvent[]): Promise<boolean> {
    const keep = kept(events, seq, this.#options.maxEvents).map((event) => JSON.stringify(event));
    const args = [seq, this.#options.ttlMs, ...keep];
    const appended = (await this.#redis.eval(APPEND, [this.#key(runId)], args)) === 1;
    if (appended) {
      this.#waiters.wake(runId);
      await this.#channels.publish(this.#channels.channel(CHANNEL), runId).catch(() => undefined);
    }
    return appended;
  }

  read(runId: string, afterSeq: number, limit: number): Promise<LoggedRunEvent[] | null> {
    const key = `${runId}\n${afterSeq}\n${limit}`;
    let read = this.#reads.get(key);
    if (!read) {
      read = this.#read(runId, afterSeq, limit).finally(() => this.#reads.delete(key));
      this.#reads.set(key, read);
    }
    return read;
  }

  async #read(runId: string, afterSeq: number, limit: number): Promise<LoggedRunEvent[] | null> {
    const key = this.#key(runId);
    const [entries, exists] = await this.#redis.run(async (client) => {
      const range = await client.xrange(key, `(${afterSeq + 1}-0`, '+', 'COUNT', limit);
      return [range, range.length > 0 ? 1 : await client.exists(key)] as const;
    });
    if (exists === 0) return null;
    return entries.map(([id, fields]) => ({
      seq: Number(id.slice(0, id.indexOf('-'))) - 1,
      event: JSON.parse(fields[1] ?? 'null') as RunEvent,
    }));
  }

  async next(runId: string): Promise<number> {
    const last = await this.#redis.run((client) => client.xrevrange(this.#key(runId), '+', '-', 'COUNT', 1));
    const id = last[0]?.[0];
    return id ? Number(id.slice(0, id.indexOf('-'))) : 0;
  }

  waitFor(runId: string, _afterSeq: number, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    return this.#waiters.wait(runId, maxWaitMs, signal);
  }

  async close(): Promise<void> {
    this.#stopListening();
  }
}
