import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startProcess } from '../helpers/process.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * SIGTERM under a keep-alive load of 64 connections: every answer a client gets is correct, no
 * request sent before SIGTERM is reset, and the process exits within the drain bound. Several runs
 * in one test, because a race here shows up only now and then.
 */

interface Outcome {
  sentAt: number;
  ok: boolean;
  status?: number;
  error?: string;
  connectionClose?: boolean;
}

const CONNECTIONS = 64;

/** When undici really wrote each request's bytes (by its x-seq header): a busy client may queue a while. */
const writtenAt = new Map<number, number>();
const onSendHeaders = (message: unknown) => {
  const match = /x-seq: (\d+)/.exec((message as { headers: string }).headers);
  if (match) writtenAt.set(Number(match[1]), performance.now());
};
let sequence = 0;

async function loadUntilStopped(url: string, id: string, stopAt: () => number | undefined): Promise<Outcome[]> {
  const origin = new URL(url).origin;
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const outcomes: Outcome[] = [];
  const body = JSON.stringify({ query: `{ thread(id: "${id}") { id } }` });
  const worker = async () => {
    for (;;) {
      const seq = ++sequence;
      const stop = stopAt();
      const sentAt = () => writtenAt.get(seq) ?? Number.POSITIVE_INFINITY;
      // After SIGTERM each worker sends at most one more request (it may find the door shut).
      if (stop !== undefined && performance.now() > stop + 2000) return;
      try {
        const answer = await pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-seq': String(seq) },
          body,
        });
        const text = await answer.body.text();
        const parsed = JSON.parse(text) as { data?: { thread?: { id: string } } };
        outcomes.push({
          sentAt: sentAt(),
          ok: answer.statusCode === 200 && parsed.data?.thread?.id === id,
          status: answer.statusCode,
          connectionClose: answer.headers.connection === 'close',
        });
      } catch (error) {
        outcomes.push({ sentAt: sentAt(), ok: false, error: (error as Error).message });
        return;
      }
      if (stop !== undefined) return;
      // Think time, as real clients have: keep-alive sockets sit idle between requests, which is
      // when a shutdown that closes idle sockets resets a request already on the wire.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 8));
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await pool.destroy();
  return outcomes;
}

/** A server that has been up a while: its code compiled and optimised, as in a real deployment. */
async function warmUp(url: string, id: string): Promise<void> {
  const body = JSON.stringify({ query: `{ thread(id: "${id}") { id } }` });
  for (let round = 0; round < 25; round++) {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.text()),
      ),
    );
  }
}

describe('shutdown that loses nothing', () => {
  let upstream: TestUpstream | undefined;
  let started: Started | undefined;
  beforeAll(() => subscribe('undici:client:sendHeaders', onSendHeaders));
  afterAll(() => unsubscribe('undici:client:sendHeaders', onSendHeaders));
  afterEach(async () => {
    started?.child.kill('SIGKILL');
    await upstream?.close();
    started = undefined;
    upstream = undefined;
  });

  it('SIGTERM under 64 keep-alive connections: no request sent before it is reset, answers correct, exit in bound (5 runs)', async () => {
    upstream = await startTestUpstream(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { forward: true };
    });
    const id = (await upstream.store.createThread({})).id;
    for (let run = 0; run < 5; run++) {
      started = startProcess('src/main.ts', {
        PORT: '0',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        SHUTDOWN_DRAIN_MS: '3000',
      });
      const [, url] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
      await started.waitFor(/upstream ready/);
      await warmUp(url ?? '', id);
      let sigtermAt: number | undefined;
      const load = loadUntilStopped(url ?? '', id, () => sigtermAt);
      await new Promise((resolve) => setTimeout(resolve, 800 + run * 37));
      sigtermAt = performance.now();
      started.child.kill('SIGTERM');
      const code = await started.exited;
      const exitedAfter = performance.now() - sigtermAt;
      const outcomes = await load;

      expect(code).toBe(0);
      expect(exitedAfter).toBeLessThan(3000 + 1500);
      const answered = outcomes.filter((outcome) => outcome.status !== undefined);
      expect(answered.length).toBeGreaterThan(CONNECTIONS);
      // Every answer a client got is correct.
      expect(answered.filter((outcome) => !outcome.ok)).toEqual([]);
      // No request sent before SIGTERM failed.
      const lostBefore = outcomes.filter((outcome) => !outcome.ok && outcome.sentAt < (sigtermAt ?? 0));
      expect(
        lostBefore.map((o) => ({ ...o, sentAt: Math.round(o.sentAt - (sigtermAt ?? 0)) })),
        `run ${run}`,
      ).toEqual([]);
      // Answers after SIGTERM tell the client to close.
      const late = answered.filter((outcome) => outcome.sentAt > (sigtermAt ?? 0) + 50);
      for (const outcome of late) expect(outcome.connectionClose).toBe(true);
    }
  }, 90_000);

  it('a hanging upstream: in-flight requests are answered with a coded error and exit comes within the drain bound', async () => {
    upstream = await startTestUpstream(() => 'hang');
    started = startProcess('src/main.ts', {
      PORT: '0',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      SHUTDOWN_DRAIN_MS: '1000',
      UPSTREAM_TIMEOUT_MS: '60000',
    });
    const [, url] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    const inFlight = Array.from({ length: 8 }, (_, index) =>
      fetch(url ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: `{ thread(id: "thread_hang${index}") { id } }` }),
      }).then(async (response) => ({ status: response.status, body: await response.text() })),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sigtermAt = performance.now();
    started.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(await started.exited, started.output()).toBe(0);
    expect(performance.now() - sigtermAt).toBeLessThan(1000 + 1500);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.body) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toMatch(/^UPSTREAM_/);
    }
  }, 30_000);
});
