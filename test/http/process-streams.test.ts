import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Started, startProcess } from '../helpers/process.ts';
import { postGraphQL } from '../helpers/write-load.ts';

/**
 * The gateway process's own long-lived streams: its log pipe, and its listener. An error on either
 * must not end a process that is serving.
 */

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const CREATE = 'mutation { createThread(input: { metadata: { from: "test" } }) { id } }';

describe('the gateway process and its streams', () => {
  let started: Started | undefined;
  afterEach(async () => {
    started?.child.kill('SIGKILL');
    await started?.exited;
  });

  it('serves on when the reader of its log pipe goes away (EPIPE on stdout)', async () => {
    started = startProcess('src/main.ts', { PORT: '0', LOG_LEVEL: 'info', LOCAL_BACKEND_STORE: 'memory' });
    const [, url = ''] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 30_000);
    // The log shipper dies: the read end of the gateway's stdout closes; every request logs a line.
    started.child.stdout?.destroy();
    for (let i = 0; i < 20; i++) {
      const answer = await postGraphQL(url, CREATE);
      expect(answer.errors, `request ${i}`).toBeUndefined();
    }
    await sleep(200);
    expect(started.child.exitCode, started.output().slice(-3000)).toBeNull();
    expect(started.output()).toContain('stdout unwritable');
  });

  it('exits 1 with one clear line when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      started = startProcess('src/main.ts', { PORT: String(port), LOG_LEVEL: 'info', LOCAL_BACKEND_STORE: 'memory' });
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(/"msg":"cannot listen".*EADDRINUSE/);
      expect(started.output()).not.toContain("Unhandled 'error' event");
    } finally {
      taken.close();
    }
  });
});
