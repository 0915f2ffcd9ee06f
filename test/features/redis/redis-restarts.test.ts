import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, vi } from 'vitest';
import { type Started, startProcess } from '../../helpers/process.ts';
import { freePort, hasRedisServer, itWhen, type ThrowawayRedis, throwawayRedis } from '../../helpers/redis.ts';
import { lostWrites, msUntilWritable, startWriteLoad, type WriteLoad } from '../../helpers/write-load.ts';

/**
 * A gateway process (`src/main.ts`) whose shared state (idempotency keys, rate limits) is on a
 * throwaway Redis that is killed (SIGKILL) or stopped (SIGTERM) and started again under keyed write
 * load. The process must outlive it, refuse the keyed creates it cannot protect with a coded error,
 * lose nothing it acknowledged, and take keyed creates again within seconds of Redis being back.
 */

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const itWithRedisServer = itWhen(hasRedisServer, 'needs the redis-server binary (apt-get install redis-server)');

const RESTARTS = ['kill', 'stop', 'kill', 'stop'] as const;
/** From Redis answering again to the first keyed create that succeeds (ioredis retries every ≤ 1 s). */
const RECOVERY_BOUND_MS = 5_000;

async function untilAcknowledged(load: WriteLoad, more: number, gateway: Started): Promise<void> {
  const target = load.threads.size + more;
  const deadline = Date.now() + 10_000;
  while (load.threads.size < target) {
    if (gateway.child.exitCode !== null) throw new Error(`the gateway exited:\n${gateway.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`no writes acknowledged for 10 s:\n${gateway.output().slice(-3000)}`);
    await sleep(20);
  }
}

describe('Redis restarted under keyed write load', () => {
  let redis: ThrowawayRedis | undefined;
  let gateway: Started | undefined;
  afterEach(async () => {
    gateway?.child.kill('SIGKILL');
    await gateway?.exited;
    await redis?.kill();
  });

  itWithRedisServer(
    'SIGKILL and SIGTERM, twice each: no exit, coded refusals, nothing acknowledged lost, keyed creates again within seconds',
    async () => {
      redis = throwawayRedis(await freePort());
      await redis.start();
      gateway = startProcess('src/main.ts', {
        PORT: '0',
        LOG_LEVEL: 'info',
        LOCAL_BACKEND_STORE: 'memory',
        REDIS_URL: redis.url,
        REDIS_TIMEOUT_MS: '300',
        // Every request then counts in Redis as well.
        RATE_LIMIT_PER_MINUTE: '1000000',
      });
      const [, url = ''] = await gateway.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 30_000);
      await gateway.waitFor(/upstream ready/, 30_000);
      const running = gateway;

      const load = startWriteLoad(url, { concurrency: 16, idempotencyKeys: true });
      const recoveries: number[] = [];
      try {
        for (const how of RESTARTS) {
          await untilAcknowledged(load, 40, running);
          if (how === 'kill') await redis.kill();
          else await redis.stop();
          await sleep(300);
          await redis.start();
          const recovered = await msUntilWritable(url, 15_000, `probe-${how}-${recoveries.length}`);
          expect(
            running.child.exitCode,
            `the gateway exited after ${how}:\n${running.output().slice(-3000)}`,
          ).toBeNull();
          expect(recovered, `no keyed create succeeded within 15 s of Redis being back (${how})`).toBeDefined();
          recoveries.push(recovered ?? Number.NaN);
        }
        await untilAcknowledged(load, 40, running);
      } finally {
        await load.stop();
      }

      expect(running.child.exitCode).toBeNull();
      expect(running.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
      expect(load.unanswered).toEqual([]);
      expect(load.failed.length).toBeGreaterThan(0);
      for (const failure of load.failed) {
        expect(failure, failure.message).toMatchObject({ status: 200, code: 'UPSTREAM_UNAVAILABLE' });
        expect(['unknown', 'not_created']).toContain(failure.outcome);
      }
      for (const ms of recoveries) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
      expect(await lostWrites(url, load)).toEqual([]);
      console.log(
        `redis restarts: ${RESTARTS.length} (${RESTARTS.join(', ')}), 0 process exits, ` +
          `${load.threads.size} threads and ${load.messages.size} messages acknowledged, 0 lost, ` +
          `${load.failed.length} keyed writes refused (UPSTREAM_UNAVAILABLE), recovery ms: ${recoveries.join(', ')}`,
      );
    },
  );
});
