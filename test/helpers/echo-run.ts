import { postOperation } from './serve.ts';

/** The function tool the echo model calls for a `/call get_weather {}` message. */
export const WEATHER_TOOLS = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

/**
 * Through a served gateway: a thread with one user message, `content`, and a run on it with `model`
 * (echo unless given), with `tools` when given (a `/call NAME {json}` message makes echo call one).
 * Throws on any error.
 */
export async function startRun(
  url: string,
  content: string,
  { model = 'echo', tools }: { model?: string; tools?: unknown[] } = {},
): Promise<{ threadId: string; runId: string }> {
  const thread = await postOperation(
    url,
    'mutation ($c: JSON!) { createThread(input: { messages: [{ role: USER, content: $c }] }) { id } }',
    { c: content },
  );
  const threadId = thread.data?.createThread?.id as string;
  const run = tools
    ? await postOperation(
        url,
        'mutation ($t: ID!, $m: String, $tools: JSON) { createRun(threadId: $t, input: { model: $m, tools: $tools }) { runId } }',
        { t: threadId, m: model, tools },
      )
    : await postOperation(
        url,
        'mutation ($t: ID!, $m: String) { createRun(threadId: $t, input: { model: $m }) { runId } }',
        {
          t: threadId,
          m: model,
        },
      );
  if (thread.errors || run.errors) throw new Error(JSON.stringify(thread.errors ?? run.errors));
  return { threadId, runId: run.data?.createRun?.runId as string };
}

/** `startRun` with the echo model. */
export function startEchoRun(
  url: string,
  content: string,
  tools?: unknown[],
): Promise<{ threadId: string; runId: string }> {
  return startRun(url, content, { tools });
}
