import type { RedisChannels } from '../features/redis/redis-channels.ts';
import type { ThreadEvent } from './events.ts';

type Listener = (event: ThreadEvent) => void;

/**
 * Changes to threads made through the gateway, to whoever subscribes to the thread when they
 * happen (they are not kept). In process without Redis; through a Redis channel per thread with
 * REDIS_URL, so a change made on one instance reaches subscribers on every other.
 */
export interface ThreadEventBus {
  publish(threadId: string, event: ThreadEvent): Promise<void>;
  /** Listens to the thread's events until the returned function is called. */
  listen(threadId: string, listener: Listener): () => void;
}

export class MemoryThreadEventBus implements ThreadEventBus {
  readonly #listeners = new Map<string, Set<Listener>>();

  async publish(threadId: string, event: ThreadEvent): Promise<void> {
    this.deliver(threadId, event);
  }

  /** Every listener of the thread gets this same object (shared-event-results.ts shares by it). */
  deliver(threadId: string, event: ThreadEvent): void {
    for (const listener of [...(this.#listeners.get(threadId) ?? [])]) listener(event);
  }

  listening(threadId: string): boolean {
    return this.#listeners.has(threadId);
  }

  listen(threadId: string, listener: Listener): () => void {
    let set = this.#listeners.get(threadId);
    if (!set) {
      set = new Set();
      this.#listeners.set(threadId, set);
    }
    set.add(listener);
    return () => {
      const current = this.#listeners.get(threadId);
      if (current?.delete(listener) && current.size === 0) this.#listeners.delete(threadId);
    };
  }
}

/**
 * Through Redis: each instance listens to the channels of the threads its subscribers watch.
 * When Redis does not take an event, this instance's own subscribers still get it.
 */
export class RedisThreadEventBus implements ThreadEventBus {
  readonly #channels: RedisChannels;
  readonly #local = new MemoryThreadEventBus();
  /** Per thread with listeners here: stops listening to its channel. */
  readonly #remote = new Map<string, () => void>();

  constructor(channels: RedisChannels) {
    this.#channels = channels;
  }

  #channel(threadId: string): string {
    return this.#channels.channel(`live:thread:${threadId}`);
  }

  async publish(threadId: string, event: ThreadEvent): Promise<void> {
    try {
      await this.#channels.publish(this.#channel(threadId), JSON.stringify(event));
    } catch {
      this.#local.deliver(threadId, event);
    }
  }

  /** One channel listener per thread: each message is parsed once, into one object for all its subscribers. */
  listen(threadId: string, listener: Listener): () => void {
    const stopLocal = this.#local.listen(threadId, listener);
    if (!this.#remote.has(threadId)) {
      const stopRemote = this.#channels.listen(this.#channel(threadId), (message) => {
        this.#local.deliver(threadId, JSON.parse(message) as ThreadEvent);
      });
      this.#remote.set(threadId, stopRemote);
    }
    return () => {
      stopLocal();
      if (this.#local.listening(threadId)) return;
      this.#remote.get(threadId)?.();
      this.#remote.delete(threadId);
    };
  }
}
