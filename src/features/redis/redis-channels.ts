import type { Redis } from 'ioredis';
import type { RedisConnection } from './redis-connection.ts';

type Handler = (message: string) => void;

/**
 * Redis pub/sub for one instance: one subscriber connection, each channel subscribed while at
 * least one handler listens to it. Publishing goes through the shared connection (bounded like
 * every command there); delivery is at most once, so what must not be lost is kept elsewhere (a
 * run's events in its Stream) and a notification only says where to look.
 */
export class RedisChannels {
  readonly #redis: RedisConnection;
  #subscriber: Redis | undefined;
  readonly #handlers = new Map<string, Set<Handler>>();

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  /** The channel's full name (the gateway's key prefix first). */
  channel(name: string): string {
    return `${this.#redis.keyPrefix}${name}`;
  }

  #connection(): Redis {
    if (!this.#subscriber) {
      const subscriber = this.#redis.subscriber();
      subscriber.on('message', (channel: string, message: string) => {
        for (const handler of this.#handlers.get(channel) ?? []) handler(message);
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  /** Listens to `channel` (a full name) until the returned function is called. */
  listen(channel: string, handler: Handler): () => void {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      void this.#connection()
        .subscribe(channel)
        .catch(() => undefined);
    }
    handlers.add(handler);
    return () => {
      const current = this.#handlers.get(channel);
      if (!current?.delete(handler) || current.size > 0) return;
      this.#handlers.delete(channel);
      void this.#subscriber?.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Publishes to `channel` (a full name); throws SharedStateUnavailable when Redis does not take it. */
  async publish(channel: string, message: string): Promise<void> {
    await this.#redis.run((client) => client.publish(channel, message));
  }

  close(): void {
    this.#handlers.clear();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }
}
