import type { ChainableCommander } from 'ioredis';
import type { RedisChannels } from '../features/redis/redis-channels.ts';
import { luaScript, type RedisConnection } from '../features/redis/redis-connection.ts';
import type { LoggedRunEvent, RunEvent } from './events.ts';
import {
  kept,
  type LogPage,
  LogWaiters,
  newEpoch,
  type RunEventLog,
  type RunEventLogOptions,
} from './run-event-log.ts';

/**
 * Appends at an exact place, or not at all: the stream's last id must be the one before `seq`
 * (entry ids are `seq+1`-0, so an empty stream expects seq 0), in the log of epoch ARGV[3] (the
 * first entry holds it, `g`; an empty stream is made with it). The answer is the epoch, or 0 when
 * the place was taken or the log is another. Trims nothing: a log is
 * bounded by what the producer keeps (`kept`) and dropped whole by its expiry.
 */
const APPEND = luaScript(
  `local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local length = 0
if #last > 0 then length = tonumber(string.match(last[1][1], '^(%d+)')) end
if length ~= tonumber(ARGV[1]) then return 0 end
local epoch = ARGV[3]
if length > 0 then
  local first = redis.call('XRANGE', KEYS[1], '1-0', '1-0')
  if ((first[1] and first[1][2][4]) or '0') ~= epoch then return 0 end
end
for i = 4, #ARGV do
  local id = (length + i - 3) .. '-0'
  if id == '1-0' then redis.call('XADD', KEYS[1], id, 'e', ARGV[i], 'g', epoch)
  else redis.call('XADD', KEYS[1], id, 'e', ARGV[i]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return epoch`,
  1,
);

/** Stream entries as ioredis answers them: id and fields. */
type Entries = Array<[string, string[]]>;

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
  readonly #reads = new Map<string, Promise<LogPage | null>>();
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

  async append(runId: string, seq: number, events: readonly RunEvent[], epoch: string | null): Promise<string | null> {
    const keep = kept(events, seq, this.#options.maxEvents).map((event) => JSON.stringify(event));
    const args = [seq, this.#options.ttlMs, seq === 0 ? newEpoch() : (epoch ?? ''), ...keep];
    const answer = await this.#redis.eval(APPEND, [this.#key(runId)], args);
    if (typeof answer !== 'string') return null;
    this.#waiters.wake(runId);
    await this.#channels.publish(this.#channels.channel(CHANNEL), runId).catch(() => undefined);
    return answer;
  }

  read(runId: string, afterSeq: number, limit: number): Promise<LogPage | null> {
    const key = `${runId}\n${afterSeq}\n${limit}`;
    let read = this.#reads.get(key);
    if (!read) {
      read = this.#read(runId, afterSeq, limit).finally(() => this.#reads.delete(key));
      this.#reads.set(key, read);
    }
    return read;
  }

  /** What `range` reads of the log, with the log's epoch (null: no log), in one round trip. */
  async #withEpoch(
    runId: string,
    range: (pipeline: ChainableCommander, key: string) => ChainableCommander,
  ): Promise<{ entries: Entries; epoch: string | null }> {
    const key = this.#key(runId);
    const results = await this.#redis.run((client) => range(client.pipeline(), key).xrange(key, '1-0', '1-0').exec());
    const failed = results?.find(([error]) => error)?.[0];
    if (failed) throw failed;
    const fields = ((results?.[1]?.[1] ?? []) as Entries)[0]?.[1];
    // A log written before logs had epochs has none in its first entry: `0`.
    return { entries: (results?.[0]?.[1] ?? []) as Entries, epoch: fields ? (fields[3] ?? '0') : null };
  }

  async #read(runId: string, afterSeq: number, limit: number): Promise<LogPage | null> {
    const { entries, epoch } = await this.#withEpoch(runId, (pipeline, key) =>
      pipeline.xrange(key, `(${afterSeq + 1}-0`, '+', 'COUNT', limit),
    );
    if (epoch === null) return null;
    const events: LoggedRunEvent[] = entries.map(([id, fields]) => ({
      seq: Number(id.slice(0, id.indexOf('-'))) - 1,
      event: JSON.parse(fields[1] ?? 'null') as RunEvent,
    }));
    return { epoch, events };
  }

  async next(runId: string): Promise<{ next: number; epoch: string } | null> {
    const { entries, epoch } = await this.#withEpoch(runId, (pipeline, key) =>
      pipeline.xrevrange(key, '+', '-', 'COUNT', 1),
    );
    const id = entries[0]?.[0];
    return epoch !== null && id ? { next: Number(id.slice(0, id.indexOf('-'))), epoch } : null;
  }

  waitFor(runId: string, _afterSeq: number, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    return this.#waiters.wait(runId, maxWaitMs, signal);
  }

  async close(): Promise<void> {
    this.#stopListening();
  }
}
