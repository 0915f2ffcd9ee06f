import { afterEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

/**
 * An answer cut at the run's maxCompletionTokens is written, ended incomplete (its stream event is
 * `thread.message.incomplete`, reason max_tokens): subscribers get it whole as for a completed one,
 * and thread subscribers hear of the new message.
 */
const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

it('runEvents ends with the cut answer whole, then INCOMPLETE; threadEvents hears of the message', async () => {
  const gateway: Gateway = testGateway({});
  const server = await serveGateway(gateway);
  open.push(
    () => gateway.close(),
    () => server.close(),
  );
  const long = 'word '.repeat(400);
  const thread = await postOperation(
    server.url,
    'mutation ($c: JSON!) { createThread(input: { messages: [{ role: USER, content: $c }] }) { id } }',
    { c: long },
  );
  const threadId = thread.data?.createThread?.id as string;
  const changes = await postSubscription(
    server.url,
    'subscription ($t: ID!) { threadEvents(threadId: $t) { __typename ... on MessageCreated { message { role } } } }',
    { t: threadId },
  );
  const heard = readSse(changes, (message) => JSON.stringify(message.data).includes('ASSISTANT'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const run = await postOperation(
    server.url,
    'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "echo", maxCompletionTokens: 256 }) { runId } }',
    { t: threadId },
  );
  const runId = run.data?.createRun?.runId as string;
  const events = await readSse(
    await postSubscription(
      server.url,
      'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename ... on MessageCompleted { message { text } } ... on RunStatusChanged { run { status incompleteReason } } } }',
      { t: threadId, r: runId },
    ),
    (message) => message.event === 'complete',
  );
  const results = events
    .filter((message) => message.event === 'next')
    .map((message) => (message.data as { data: { runEvents: Record<string, unknown> } }).data.runEvents);
  const completed = results.find((event) => event.__typename === 'MessageCompleted') as
    | { message: { text: string } }
    | undefined;
  expect(completed?.message.text.length).toBeGreaterThan(500);
  expect(long.startsWith(completed?.message.text ?? 'x')).toBe(true);
  expect(results.at(-1)).toEqual({
    __typename: 'RunStatusChanged',
    run: { status: 'INCOMPLETE', incompleteReason: 'max_completion_tokens' },
  });
  expect(JSON.stringify(await heard)).toContain('ASSISTANT');
});
