import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createLive } from '../../src/live/create-live.ts';
import type { UpstreamApi } from '../../src/upstream/upstream-api.ts';
import { silentLogger } from '../helpers/gateway.ts';

/**
 * Subscriptions opened and ended by the tens of thousands (a client that churns them) leave
 * nothing behind: each one's hold on the instance's stopping signal goes with it.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

it('60,000 threadEvents subscriptions opened and ended: the heap does not grow with them', async () => {
  const system = createLive(loadConfig({}), {} as UpstreamApi, undefined, silentLogger);
  const churn = async (count: number) => {
    for (let index = 0; index < count; index++) {
      const events = system.live.threadEvents({ callerId: 'churner', credential: undefined }, 'thread_churn');
      const waiting = events.next();
      await events.return(undefined);
      await waiting;
    }
  };
  try {
    await churn(5_000);
    const before = heapAfterGc();
    await churn(60_000);
    const grown = heapAfterGc() - before;
    // Subscriptions that each kept an entry on the stopping signal grew it by kilobytes apiece here
    // (262 MB in all); what is left is a few bytes apiece of the engine's own (Node 20: ~8, 24: ~23).
    expect(grown / 60_000).toBeLessThan(100);
  } finally {
    await system.close();
  }
}, 60_000);

it('many subscriptions open at once raise no listener warning', async () => {
  const system = createLive(loadConfig({}), {} as UpstreamApi, undefined, silentLogger);
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const open = Array.from({ length: 50 }, () =>
      system.live.threadEvents({ callerId: 'many', credential: undefined }, 'thread_many'),
    );
    const waiting = open.map((events) => events.next());
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const events of open) await events.return(undefined);
    await Promise.all(waiting);
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
    await system.close();
  }
});
