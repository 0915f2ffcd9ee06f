import { afterAll, expect } from 'vitest';
import { chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { createDatabase, dropDatabase, postgresReachable } from '../helpers/postgres.ts';
import { type Started, startProcess } from '../helpers/process.ts';
import { hasRedis, itWhen, REDIS_URL, testPrefix } from '../helpers/redis.ts';
import { postOperation } from '../helpers/serve.ts';
import { readSse } from '../helpers/sse.ts';

const hasPostgres = await postgresReachable();
const started: Started[] = [];
afterAll(() => {
  for (const child of started) child.child.kill('SIGKILL');
});

const graphql = postOperation;

async function gatewayProcess(env: Record<string, string>): Promise<{ url: string; process: Started }> {
  const child = startProcess('src/main.ts', { PORT: '0', LOG_LEVEL: 'info', ...env });
  started.push(child);
  const [, url = ''] = await child.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 30_000);
  await child.waitFor(/upstream ready/, 30_000);
  return { url, process: child };
}

itWhen(hasRedis && hasPostgres, 'needs Redis and PostgreSQL on loopback')(
  'SIGKILL the gateway producing a streamed run: the other resumes the upstream stream, and the text is exact',
  async () => {
    // A model that writes 80 pieces 40 ms apart: the run streams for about 3 s.
    const pieces = Array.from({ length: 80 }, (_, index) => `piece ${index} — ✓ ünïcode 🌊; `);
    const model = await startChatCompletionsServer(() => ({
      kind: 'stream',
      intervalMs: 40,
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        ...pieces.map((piece) => chunk({ content: piece })),
        chunk({}, 'stop', { prompt_tokens: 5, completion_tokens: 80, total_tokens: 85 }),
      ],
    }));
    const backend = startProcess('src/local-backend/main.ts', {
      LOCAL_BACKEND_PORT: '0',
      LOCAL_BACKEND_STORE: 'memory',
      LOCAL_BACKEND_MODEL_URL: model.url,
    });
    started.push(backend);
    const [, backendUrl = ''] = await backend.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+\/v1)/);
    const database = await createDatabase('live_takeover');
    const prefix = testPrefix();
    try {
      // Both gateways: the Conversations API of the one backend, run records in one PostgreSQL, one Redis.
      const env = {
        OPENAI_API_KEY: 'sk-local',
        OPENAI_BASE_URL: backendUrl,
        UPSTREAM_API: 'conversations',
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix.prefix,
        RUN_LEASE_S: '2',
      };
      const a = await gatewayProcess(env);
      const b = await gatewayProcess(env);
      const thread = await graphql(a.url, 'mutation { createThread { id } }');
      const threadId = thread.data?.createThread?.id ?? '';
      const run = await graphql(
        a.url,
        'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "paced" }) { runId status } }',
        { t: threadId },
      );
      const runId = run.data?.createRun?.runId ?? '';
      expect(runId).toMatch(/^run_/);
      // Watched on B while A produces; A is killed once some text has arrived.
      const response = await fetch(b.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query: `subscription ($t: ID!, $r: ID!) { runEvents(threadId: $t, runId: $r) {
            __typename ... on MessageTextDelta { text } ... on MessageCompleted { message { text } } ... on RunStatusChanged { run { status } }
          } }`,
          variables: { t: threadId, r: runId },
        }),
      });
      let killedAfter = 0;
      const messages = await readSse(response, (message, all) => {
        const deltas = all.filter((m) => JSON.stringify(m.data).includes('MessageTextDelta')).length;
        if (!killedAfter && deltas >= 10) {
          killedAfter = deltas;
          a.process.child.kill('SIGKILL');
        }
        return message.event === 'complete';
      });
      const events = messages
        .filter((message) => message.event === 'next')
        .map((message) => (message.data as { data: { runEvents: Record<string, unknown> } }).data.runEvents);
      const text = pieces.join('');
      const joined = events.filter((event) => event.__typename === 'MessageTextDelta').map((event) => event.text);
      expect(killedAfter).toBeGreaterThanOrEqual(10);
      expect(joined.length).toBeGreaterThan(killedAfter);
      expect(joined.join('')).toBe(text);
      const completed = events.filter((event) => event.__typename === 'MessageCompleted');
      expect(completed.map((event) => (event.message as { text: string }).text)).toEqual([text]);
      expect(events.at(-1)).toEqual({ __typename: 'RunStatusChanged', run: { status: 'COMPLETED' } });
    } finally {
      await model.close();
      await prefix.cleanup();
      for (const child of started) child.child.kill('SIGKILL');
      await dropDatabase(database.name);
    }
  },
  60_000,
);
