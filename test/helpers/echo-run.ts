import { postOperation } from './serve.ts';

/** The function tool the echo model calls for a `/call get_weather {}` message. */
export const WEATHER_TOOLS = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

/**
 * Through a served gateway: a thread with one user message, `content`, and an echo run on it, with
 * `tools` when given (a `/call NAME {json}` message makes echo call one). Throws on any error.
 */
export async function startEchoRun(
  url: string,
  content: string,
  tools?: unknown[],
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
        'mutation ($t: ID!, $tools: JSON) { createRun(threadId: $t, input: { model: "echo", tools: $tools }) { runId } }',
        { t: threadId, tools },
      )
    : await postOperation(url, 'mutation ($t: ID!) { createRun(threadId: $t, input: { model: "echo" }) { runId } }', {
        t: threadId,
      });
  if (thread.errors || run.errors) throw new Error(JSON.stringify(thread.errors ?? run.errors));
  return { threadId, runId: run.data?.createRun?.runId as string };
}
