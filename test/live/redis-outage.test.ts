import { expect } from 'vitest';
import { chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { testGateway } from '../helpers/gateway.ts';
import { freePort, hasRedisServer, itWhen, throwawayRedis } from '../helpers/redis.ts';
import { serveGateway } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

itWhen(hasRedisServer, 'needs the redis-server binary (apt-get install redis-server)')(
  'Redis killed mid-stream: the subscription ends with UPSTREAM_UNAVAILABLE and its last cursor, never hangs',
  async () => {
    const model = await startChatCompletionsServer(() => ({
      kind: 'stream',
      intervalMs: 40,
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        ...Array.from({ length: 100 }, (_, index) => chunk({ content: `word${index} ` })),
        chunk({}, 'stop'),
      ],
    }));
    const redis = throwawayRedis(await freePort());
    await redis.start();
    const gateway = testGateway({ REDIS_URL: redis.url, LOCAL_BACKEND_MODEL_URL: model.url, REDIS_TIMEOUT_MS: '500' });
    const served = await serveGateway(gateway);
    try {
      const post = async (query: string, variables: Record<string, unknown> = {}) =>
        (await (
          await fetch(served.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, variables }),
          })
        ).json()) as { data: Record<string, Record<string, string>> };
      const threadId = (
        await post('mutation { createThread(input: { messages: [{ role: USER, content: "go" }] }) { id } }')
      ).data.createThread?.id;
      const runId = (
        await post('mutation ($t: ID!) { createRun(threadId: $t, input: { model: "paced" }) { runId } }', {
          t: threadId,
        })
      ).data.createRun?.runId;
      const response = await fetch(served.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query:
            'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename ... on MessageTextDelta { cursor } ... on RunStatusChanged { cursor } ... on MessageCompleted { cursor } } }',
          variables: { t: threadId, r: runId },
        }),
      });
      let killed = false;
      const started = Date.now();
      const messages = await readSse(response, (_message, all) => {
        if (!killed && all.length >= 5) {
          killed = true;
          void redis.kill();
        }
        return false;
      });
      expect(killed).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      const payloads = messages
        .filter((message) => message.event === 'next')
        .map(
          (message) =>
            message.data as {
              data: { runEvents: { cursor?: string } } | null;
              errors?: Array<{ extensions: { code: string; cursor?: string } }>;
            },
        );
      const last = payloads.at(-1);
      expect(last?.errors?.[0]?.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      // The cursor to resume from is the last event delivered before it.
      const delivered = payloads.slice(0, -1).at(-1)?.data?.runEvents.cursor;
      expect(last?.errors?.[0]?.extensions.cursor).toBe(delivered);
      expect(messages.at(-1)?.event).toBe('complete');

      // A subscription opened while Redis is down is refused with the same code, never a masked INTERNAL.
      const late = await readSse(
        await fetch(served.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({
            query: 'subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) { __typename } }',
            variables: { t: threadId, r: runId },
          }),
        }),
      );
      const codes = late.flatMap(
        (message) =>
          (message.data as { errors?: Array<{ extensions: { code: string } }> } | null)?.errors?.map(
            (error) => error.extensions.code,
          ) ?? [],
      );
      expect(codes).toEqual(['UPSTREAM_UNAVAILABLE']);
    } finally {
      await served.close();
      await gateway.close();
      await model.close();
      await redis.kill();
    }
  },
  30_000,
);
