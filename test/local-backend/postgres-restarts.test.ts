import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type PgCluster, startThrowawayCluster, throwawayClusterUnavailable } from '../helpers/pg-cluster.ts';
import { type Started, startProcess } from '../helpers/process.ts';
import { reportSkip } from '../helpers/skips.ts';
import { lostWrites, msUntilWritable, startWriteLoad, type WriteLoad } from '../helpers/write-load.ts';

/**
 * A gateway process (`src/main.ts`) on a throwaway PostgreSQL that is restarted under write load,
 * every way it goes down: `pg_ctl restart -m fast` (connections terminated with 57P01),
 * `-m immediate` (no goodbye to the clients) and SIGKILL of the postmaster (the connections reset).
 * The process must outlive them all, answer the writes caught in flight with a coded error, lose
 * nothing it acknowledged, and write again within seconds of the database being back.
 */

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const noCluster = throwawayClusterUnavailable();
if (noCluster) reportSkip('PostgreSQL restarts under load', `no throwaway cluster: ${noCluster}`);

const RESTARTS = ['fast', 'immediate', 'kill', 'fast', 'immediate', 'kill'] as const;
/** From the database accepting connections again to the first create that succeeds. */
const RECOVERY_BOUND_MS = 5_000;

/** Waits until the load has `more` further threads acknowledged: writes are flowing. */
async function untilAcknowledged(load: WriteLoad, more: number, gateway: Started): Promise<void> {
  const target = load.threads.size + more;
  const deadline = Date.now() + 10_000;
  while (load.threads.size < target) {
    if (gateway.child.exitCode !== null) throw new Error(`the gateway exited:\n${gateway.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`no writes acknowledged for 10 s:\n${gateway.output().slice(-4000)}`);
    await sleep(20);
  }
}

describe.skipIf(noCluster !== undefined)('PostgreSQL restarted under write load', () => {
  let cluster: PgCluster | undefined;
  let gateway: Started | undefined;
  afterEach(async () => {
    gateway?.child.kill('SIGKILL');
    await gateway?.exited;
    cluster?.destroy();
  });

  it('fast, immediate and kill -9, twice each: no exit, coded failures, nothing acknowledged lost, writes again within seconds', async () => {
    cluster = await startThrowawayCluster();
    gateway = startProcess('src/main.ts', { PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: cluster.url });
    const [, url = ''] = await gateway.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 30_000);
    await gateway.waitFor(/upstream ready/, 30_000);
    const running = gateway;

    const load = startWriteLoad(url, { concurrency: 16 });
    const recoveries: number[] = [];
    try {
      for (const how of RESTARTS) {
        await untilAcknowledged(load, 40, running);
        if (how === 'kill') {
          cluster.killPostmaster();
          // Down for a moment, as a supervisor's restart delay would leave it.
          await sleep(300);
          await cluster.startAgain();
        } else {
          await cluster.restart(how);
        }
        const recovered = await msUntilWritable(url, 15_000);
        expect(running.child.exitCode, `the gateway exited after ${how}:\n${running.output().slice(-3000)}`).toBeNull();
        expect(recovered, `no create succeeded within 15 s of the ${how} restart`).toBeDefined();
        recoveries.push(recovered ?? Number.NaN);
      }
      await untilAcknowledged(load, 40, running);
    } finally {
      await load.stop();
    }

    expect(running.child.exitCode).toBeNull();
    expect(running.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
    // Every request was answered: the process was there throughout.
    expect(load.unanswered).toEqual([]);
    // The writes caught by a restart were refused with the code and outcome of any failed create.
    expect(load.failed.length).toBeGreaterThan(0);
    for (const failure of load.failed) {
      expect(failure, failure.message).toMatchObject({ status: 200, code: 'UPSTREAM_UNAVAILABLE' });
      expect(['unknown', 'not_created']).toContain(failure.outcome);
    }
    for (const ms of recoveries) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
    expect(await lostWrites(url, load)).toEqual([]);
    console.log(
      `postgres restarts: ${RESTARTS.length} (${RESTARTS.join(', ')}), 0 process exits, ` +
        `${load.threads.size} threads and ${load.messages.size} messages acknowledged, 0 lost, ` +
        `${load.failed.length} writes refused (UPSTREAM_UNAVAILABLE), recovery ms: ${recoveries.join(', ')}`,
    );
  });
});
