import { expect, it } from 'vitest';
import { chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { testGateway } from '../helpers/gateway.ts';
import { postOperation, postSubscription, serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';
import { startTestUpstream } from '../helpers/test-upstream.ts';

/**
 * `runEvents` right after `createRun` reads nothing upstream (the instance follows the run with the
 * caller's credential); a caller with another key is read first, as before: counted at the upstream.
 */
it('no run read for the caller that created the run; one for a caller with another key', async () => {
  // A model still writing, so the run is being followed while both subscribe.
  const model = await startChatCompletionsServer(() => ({
    kind: 'stream',
    intervalMs: 100,
    chunks: [
      chunk({ role: 'assistant', content: '' }),
      ...['one ', 'two ', 'three '].map((text) => chunk({ content: text })),
      chunk({}, 'stop'),
    ],
  }));
  const upstream = await startTestUpstream(undefined, { modelUrl: model.url });
  const gateway = testGateway({ OPENAI_BASE_URL: upstream.url });
  const served = await serveGateway(gateway);
  const alice = { authorization: 'Bearer sk-alice-key-0001' };
  const bob = { authorization: 'Bearer sk-bob-key-0002' };
  try {
    const thread = await postOperation(served.url, 'mutation { createThread(input: {}) { id } }', {}, alice);
    const threadId = thread.data?.createThread?.id as string;
    const run = await postOperation(
      served.url,
      'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "m" }) { runId } }',
      { t: threadId },
      alice,
    );
    const runId = run.data?.createRun?.runId as string;
    const runReads = () => upstream.count('GET', new RegExp(`/threads/${threadId}/runs/${runId}$`));
    const watch = (headers: Record<string, string>) =>
      postSubscription(
        served.url,
        'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename ... on MessageTextDelta { text } } }',
        { t: threadId, r: runId },
        headers,
      ).then((response) => readSse(response));
    const before = runReads();
    const own = await Promise.all([watch(alice), watch(bob)]).then(([ownEvents, otherEvents]) => {
      // Both read the whole run (the backend serves both keys the same store).
      for (const events of [ownEvents, otherEvents]) {
        const text = events
          .map(
            (event) => (event.data as { data?: { runEvents?: { text?: string } } } | null)?.data?.runEvents?.text ?? '',
          )
          .join('');
        expect(text).toBe('one two three ');
      }
      return runReads() - before;
    });
    expect(own).toBe(1);
  } finally {
    await served.close();
    await gateway.close();
    await upstream.close();
    await model.close();
  }
});
