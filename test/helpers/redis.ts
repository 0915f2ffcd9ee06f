import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from './gateway.ts';
import { reportSkip } from './skips.ts';
import { closeAll, startTestUpstream, type TestUpstream } from './test-upstream.ts';

/** The Redis this kind of machine runs (CI starts it when it is installed but stopped). */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether something answers PING on host:port within a short time. */
export function answersPing(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

export const hasRedis = await answersPing(6379);
export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/**
 * `it` when the condition holds; otherwise the test is skipped and says so in one visible line,
 * never silently.
 */
export function itWhen(condition: boolean, reason: string): typeof it {
  if (condition) return it;
  return ((name: string) => {
    reportSkip(name, reason);
    it.skip(name, () => undefined);
  }) as unknown as typeof it;
}

/** A test that needs the Redis on 127.0.0.1:6379. */
export const itWithRedis = itWhen(
  hasRedis,
  'no Redis on 127.0.0.1:6379 (start one: redis-server --daemonize yes --port 6379 --save "" --appendonly no)',
);

/** A key prefix of one test's own, and a way to delete every key under it afterwards. */
export function testPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `tgw-test:${randomUUID()}:`;
  return {
    prefix,
    async cleanup() {
      const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await client.connect();
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await client.del(...keys);
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

/**
 * Two gateways on one Redis prefix and one test upstream, as two replicas behind a load balancer.
 * `close()` closes both and the upstream, then removes the prefix's keys.
 */
export async function twoGatewaysOnRedis(env: Record<string, string> = {}): Promise<{
  a: Gateway;
  b: Gateway;
  upstream: TestUpstream;
  prefix: string;
  close(): Promise<void>;
}> {
  const own = testPrefix();
  const upstream = await startTestUpstream();
  const shared = {
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: own.prefix,
    ...env,
  };
  const a = testGateway(shared);
  const b = testGateway(shared);
  return {
    a,
    b,
    upstream,
    prefix: own.prefix,
    close: async () => {
      await closeAll(a, b, upstream);
      await own.cleanup();
    },
  };
}

/** How many keys exist under a prefix (to check what a test left behind). */
export async function countKeys(prefix: string): Promise<number> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
  try {
    return (await client.keys(`${prefix}*`)).length;
  } finally {
    client.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server of the test's own, on its own port, that the test may kill and restart. */
export interface ThrowawayRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  /** SIGKILL: as abrupt as a crash. */
  kill(): Promise<void>;
  /** SIGTERM: Redis closes its clients' connections and exits, as a planned restart does. */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts bytes and never answers, like a network partition. */
  pause(): void;
  resume(): void;
}

export function throwawayRedis(port: number): ThrowawayRedis {
  let child: ChildProcess | undefined;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      const until = Date.now() + 10_000;
      while (!(await answersPing(port))) {
        if (Date.now() > until) throw new Error(`redis-server did not start on port ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async kill() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill('SIGTERM');
      await exited;
    },
  };
}
