import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '../../logger.ts';

/** A dependency's state, for `/ready`. */
export interface DependencyVerdict {
  ok: boolean;
  detail: string;
}

/** A Redis command failed, timed out, or could not be sent: the shared state is not usable now. */
export class SharedStateUnavailable extends Error {
  override name = 'SharedStateUnavailable';
}

export interface RedisConnectionOptions {
  url: string;
  /** Prefix of every key this gateway writes (tests give each case its own). */
  keyPrefix: string;
  /** The longest one command, or a wait for a connection, may take. */
  timeoutMs: number;
  logger: Logger;
}

/** A Lua script run by its SHA, loaded on the first NOSCRIPT (a restarted Redis forgets scripts). */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

export function luaScript(source: string, keys: number): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex'), keys };
}

/**
 * One ioredis connection shared by the gateway's Redis-backed stores. Nothing waits on it forever:
 * commands are never queued while disconnected (`enableOfflineQueue: false`), never resent after a
 * dropped connection (`maxRetriesPerRequest: 0`), and each is bounded by `commandTimeout`; the
 * client itself reconnects in the background for as long as the gateway runs, so the gateway
 * recovers by itself when Redis comes back.
 */
export class RedisConnection {
  readonly keyPrefix: string;
  readonly #client: Redis;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  #down = false;
  #closed = false;
  readonly #scripts = new Set<LuaScript>();

  constructor(options: RedisConnectionOptions) {
    this.keyPrefix = options.keyPrefix;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1_000),
      // Reconnect forever, backing off to one attempt a second.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    });
    this.#client.on('error', (error: Error) => this.#markDown(error));
    this.#client.on('close', () => {
      if (!this.#closed) this.#markDown(new Error('connection closed'));
    });
    this.#client.on('ready', () => {
      if (this.#down) this.#logger.warn('redis reachable again: shared state restored');
      this.#down = false;
      this.#loadScripts();
    });
  }

  /** Runs `command` on a ready connection, within the timeout; any failure is `SharedStateUnavailable`. */
  async run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new SharedStateUnavailable('the Redis connection is closed');
    await this.#ready();
    let timer: NodeJS.Timeout | undefined;
    try {
      // commandTimeout bounds each command; this bounds a command plus its NOSCRIPT reload.
      return await Promise.race([
        command(this.#client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new SharedStateUnavailable('Redis did not answer in time')),
            this.#timeoutMs * 2,
          );
        }),
      ]);
    } catch (error) {
      if (error instanceof SharedStateUnavailable) throw error;
      throw new SharedStateUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Loads scripts into Redis on every (re)connection, so that EVALSHA finds them: a command that
   * timed out still runs when Redis answers again, and a NOSCRIPT then would be answered to no one.
   */
  register(...scripts: LuaScript[]): void {
    for (const script of scripts) this.#scripts.add(script);
    if (this.#client.status === 'ready') this.#loadScripts();
  }

  #loadScripts(): void {
    for (const script of this.#scripts) void this.#client.script('LOAD', script.source).catch(() => undefined);
  }

  /** Runs a Lua script atomically (EVALSHA, then EVAL once if Redis does not know it yet). */
  eval(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.run(async (client) => {
      try {
        return await client.evalsha(script.sha, script.keys, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(script.source, script.keys, ...keys, ...args);
      }
    });
  }

  /**
   * A second connection for SUBSCRIBE (a subscribed connection runs no other command). It queues
   * its subscriptions until connected and, like the first, reconnects forever and subscribes again;
   * its errors are the first one's to report.
   */
  subscriber(): Redis {
    const client = this.#client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    return client;
  }

  /** For `/ready`: a PING within the timeout. Never names the URL (it may hold a password). */
  async check(): Promise<DependencyVerdict> {
    try {
      const pong = await this.run((client) => client.ping());
      return pong === 'PONG' ? { ok: true, detail: 'redis: ok' } : { ok: false, detail: 'redis: unexpected answer' };
    } catch (error) {
      return { ok: false, detail: `redis: unreachable (${error instanceof Error ? error.message : 'unknown'})` };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    try {
      await Promise.race([this.#client.quit(), sleep(this.#timeoutMs, undefined, { ref: false })]);
    } catch {
      // Already disconnected.
    }
    this.#client.disconnect();
  }

  /**
   * Waits for the connection while one is being made (start-up), at most the timeout. While Redis is
   * known to be down, fails at once: a create must not wait on a reconnect loop.
   */
  async #ready(): Promise<void> {
    const status = this.#client.status;
    if (status === 'ready') return;
    if (this.#down || (status !== 'wait' && status !== 'connecting' && status !== 'connect')) {
      throw new SharedStateUnavailable(`Redis is not connected (${status})`);
    }
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        this.#client.off('error', onError);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onError = (error: Error) => done(new SharedStateUnavailable(error.message, { cause: error }));
      const timer = setTimeout(
        () => done(new SharedStateUnavailable('no connection to Redis in time')),
        this.#timeoutMs,
      );
      this.#client.once('ready', onReady);
      this.#client.once('error', onError);
    });
  }

  #markDown(error: Error): void {
    if (!this.#down)
      this.#logger.error('redis unreachable: keyed creates refused until it returns', { error: error.message });
    this.#down = true;
  }
}
