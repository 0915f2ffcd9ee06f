import { setTimeout as sleep } from 'node:timers/promises';
import { type PgCluster, startThrowawayCluster, throwawayClusterUnavailable } from '../test/helpers/pg-cluster.ts';
import { startProcess } from '../test/helpers/process.ts';
import { freePort, type ThrowawayRedis, throwawayRedis } from '../test/helpers/redis.ts';
import { lostWrites, msUntilWritable, startWriteLoad } from '../test/helpers/write-load.ts';

// `npm run soak:restarts`: a gateway process on a throwaway PostgreSQL and a throwaway Redis of its
// own, under write load (half the writers keyed, so their creates go through Redis), while each is
// restarted during the run: PostgreSQL `pg_ctl restart -m fast`, Redis SIGKILL, PostgreSQL SIGKILL
// of the postmaster, Redis SIGTERM. SOAK_SECONDS (60) and SOAK_CONCURRENCY (16) tune it.
// It must end with 0 process exits, 0 acknowledged writes lost and every refused write coded.
const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 16);

const noCluster = throwawayClusterUnavailable();
if (noCluster) {
  console.error(`soak:restarts needs a throwaway PostgreSQL cluster: ${noCluster}`);
  process.exit(2);
}

type Restart = { at: number; what: string; run(pg: PgCluster, redis: ThrowawayRedis): Promise<void>; keyed: boolean };
const RESTARTS: Restart[] = [
  { at: 1 / 5, what: 'postgres pg_ctl restart -m fast', keyed: false, run: (pg) => pg.restart('fast') },
  {
    at: 2 / 5,
    what: 'redis SIGKILL, then start',
    keyed: true,
    run: async (_, redis) => {
      await redis.kill();
      await sleep(500);
      await redis.start();
    },
  },
  {
    at: 3 / 5,
    what: 'postgres SIGKILL of the postmaster, then start',
    keyed: false,
    run: async (pg) => {
      pg.killPostmaster();
      await sleep(500);
      await pg.startAgain();
    },
  },
  {
    at: 4 / 5,
    what: 'redis SIGTERM, then start',
    keyed: true,
    run: async (_, redis) => {
      await redis.stop();
      await sleep(500);
      await redis.start();
    },
  },
];

const pg = await startThrowawayCluster();
const redis = throwawayRedis(await freePort());
await redis.start();
// LOG_LEVEL=warn writes no "listening" line (nor a line per request): the port is chosen here.
const port = await freePort();
const running = startProcess('src/main.ts', {
  PORT: String(port),
  LOG_LEVEL: 'warn',
  DATABASE_URL: pg.url,
  REDIS_URL: redis.url,
  // Every request then counts in Redis too.
  RATE_LIMIT_PER_MINUTE: '1000000',
});
const url = `http://127.0.0.1:${port}/graphql`;
if ((await msUntilWritable(url, 60_000)) === undefined)
  throw new Error(`the gateway did not start:\n${running.output()}`);

const plain = startWriteLoad(url, { concurrency: Math.ceil(concurrency / 2), pauseMs: 5 });
const keyed = startWriteLoad(url, { concurrency: Math.floor(concurrency / 2), idempotencyKeys: true, pauseMs: 5 });
const started = Date.now();
const restarts: Array<{ what: string; recoveryMs: number | undefined; processRunning: boolean }> = [];
for (const [index, restart] of RESTARTS.entries()) {
  await sleep(Math.max(0, started + restart.at * seconds * 1000 - Date.now()));
  await restart.run(pg, redis);
  const recoveryMs = await msUntilWritable(url, 30_000, restart.keyed ? `soak-probe-${index}` : undefined);
  restarts.push({ what: restart.what, recoveryMs, processRunning: running.child.exitCode === null });
}
await sleep(Math.max(0, started + seconds * 1000 - Date.now()));
await Promise.all([plain.stop(), keyed.stop()]);

const processExits = running.child.exitCode === null ? 0 : 1;
const lost = processExits === 0 ? [...(await lostWrites(url, plain)), ...(await lostWrites(url, keyed))] : ['unknown'];
const failed = [...plain.failed, ...keyed.failed];
const uncoded = failed.filter(
  (failure) => failure.code !== 'UPSTREAM_UNAVAILABLE' || !['unknown', 'not_created'].includes(String(failure.outcome)),
);
const report = {
  seconds,
  concurrency,
  restarts,
  processExits,
  writesSent: plain.sent() + keyed.sent(),
  acknowledged: {
    threads: plain.threads.size + keyed.threads.size,
    messages: plain.messages.size + keyed.messages.size,
  },
  lost: lost.length,
  refused: {
    total: failed.length,
    byCode: Object.fromEntries(
      [...new Set(failed.map((failure) => `${failure.code}/${String(failure.outcome)}`))].map((key) => [
        key,
        failed.filter((failure) => `${failure.code}/${String(failure.outcome)}` === key).length,
      ]),
    ),
  },
  unanswered: plain.unanswered.length + keyed.unanswered.length,
  firstUncoded: uncoded.slice(0, 5),
};
console.log(JSON.stringify(report, null, 2));

running.child.kill('SIGTERM');
await running.exited;
await redis.kill();
pg.destroy();
const ok =
  processExits === 0 &&
  lost.length === 0 &&
  uncoded.length === 0 &&
  report.unanswered === 0 &&
  restarts.every((restart) => restart.recoveryMs !== undefined);
if (!ok) console.error(running.output().slice(-5_000));
process.exit(ok ? 0 : 1);
