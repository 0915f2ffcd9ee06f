import { afterEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { WEATHER_TOOLS } from '../helpers/echo-run.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * A message or run refused because the thread has a run in progress says so (reason and run id),
 * found by reading the thread's newest run at a real Threads server, never from its error text.
 */
let upstream: TestUpstream | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** Reads the run until it has `status` (at most 100 reads, 20 ms apart). */
async function untilStatus(on: Gateway, threadId: string, runId: string, status: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const read = await execute(on, 'query ($t: ID!, $r: ID!) { run(threadId: $t, id: $r) { status } }', {
      t: threadId,
      r: runId,
    });
    if ((read.data as { run: { status: string } }).run.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('names the run that holds the thread, with one read of its runs; a refusal on a free thread stays as it was', async () => {
  upstream = await startTestUpstream();
  gateway = testGateway({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-test' });
  const thread = await execute(
    gateway,
    'mutation { createThread(input: { messages: [{ role: USER, content: "/call get_weather {}" }] }) { id } }',
  );
  const threadId = (thread.data as { createThread: { id: string } }).createThread.id;
  const started = await execute(
    gateway,
    'mutation ($t: ID!, $tools: JSON) { createRun(threadId: $t, input: { model: "echo", tools: $tools }) { runId } }',
    { t: threadId, tools: WEATHER_TOOLS },
  );
  const runId = (started.data as { createRun: { runId: string } }).createRun.runId;
  // The echo model calls the tool: the run waits on its output, holding the thread.
  await untilStatus(gateway, threadId, runId, 'REQUIRES_ACTION');
  const runReads = () => upstream?.count('GET', new RegExp(`/threads/${threadId}/runs\\?`)) ?? 0;

  const message = await execute(
    gateway,
    'mutation ($t: ID!) { createMessage(threadId: $t, input: { role: USER, content: "more" }) { id } }',
    { t: threadId },
  );
  expect(codes(message)).toEqual(['BAD_USER_INPUT']);
  expect(message.errors?.[0]?.extensions).toMatchObject({
    reason: 'THREAD_HAS_ACTIVE_RUN',
    runId,
    runStatus: 'REQUIRES_ACTION',
    outcome: 'not_created',
  });
  expect(message.errors?.[0]?.message).toContain(runId);
  expect(runReads()).toBe(1);

  const again = await execute(
    gateway,
    'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "echo" }) { runId } }',
    { t: threadId },
  );
  expect(again.errors?.[0]?.extensions).toMatchObject({ reason: 'THREAD_HAS_ACTIVE_RUN', runId });
  expect(runReads()).toBe(2);

  // Once the run is cancelled, a 400 for another cause keeps its own form.
  const cancelled = await execute(
    gateway,
    'mutation ($t: ID!, $r: ID!) { cancelRun(threadId: $t, runId: $r) { status } }',
    { t: threadId, r: runId },
  );
  expect(cancelled.errors).toBeUndefined();
  await untilStatus(gateway, threadId, runId, 'CANCELLED');
  upstream.handler = (request) =>
    request.method === 'POST' && request.path.endsWith('/messages')
      ? { status: 400, body: { error: { message: 'no', type: 'invalid_request_error', param: null, code: null } } }
      : { forward: true };
  const refused = await execute(
    gateway,
    'mutation ($t: ID!) { createMessage(threadId: $t, input: { role: USER, content: "more" }) { id } }',
    { t: threadId },
  );
  expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
  expect(refused.errors?.[0]?.extensions?.reason).toBeUndefined();
  expect(runReads()).toBe(3);
});
