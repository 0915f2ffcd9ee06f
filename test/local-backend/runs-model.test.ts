import type OpenAI from 'openai';
import type { Run, RunCreateParamsNonStreaming } from 'openai/resources/beta/threads/runs/runs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import {
  type ChatCompletionsServer,
  type ChatReply,
  chunk,
  startChatCompletionsServer,
} from '../helpers/chat-completions-server.ts';
import { type ServedBackend, serveRunBackend, until } from '../helpers/run-backend.ts';

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired', 'incomplete'];

describe('runs over LOCAL_BACKEND_MODEL_URL: a real Chat Completions server streaming over HTTP', () => {
  let model: ChatCompletionsServer;
  let served: ServedBackend;
  let client: OpenAI;

  async function start(reply: (body: Record<string, unknown>, index: number) => ChatReply): Promise<void> {
    model = await startChatCompletionsServer(reply);
    served = await serveRunBackend(new MemoryStore(), { model: { url: model.url, key: 'sk-model' } });
    client = served.client;
  }

  afterEach(async () => {
    await served.close();
    await model.close();
  });

  async function run(content: string, fields: Record<string, unknown> = {}): Promise<{ threadId: string; run: Run }> {
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] });
    const created = await client.beta.threads.runs.create(thread.id, {
      model: 'test-model',
      ...fields,
    } as unknown as RunCreateParamsNonStreaming);
    return { threadId: thread.id, run: await settle(thread.id, created.id, ['requires_action', ...TERMINAL]) };
  }

  function settle(threadId: string, runId: string, statuses = TERMINAL): Promise<Run> {
    return until(
      () => client.beta.threads.runs.retrieve(runId, { thread_id: threadId }),
      (r) => statuses.includes(r.status),
    );
  }

  async function answerText(threadId: string, runId: string): Promise<string> {
    const [message] = (await client.beta.threads.messages.list(threadId, { run_id: runId })).data;
    return message?.content[0]?.type === 'text' ? message.content[0].text.value : '';
  }

  it('streams text into the assistant message and reports the server’s usage', async () => {
    await start(() => ({
      kind: 'stream',
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo, ' }),
        chunk({ content: 'world' }),
        chunk({}, 'stop'),
        { ...chunk({}), choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } },
      ],
    }));
    const { threadId, run: done } = await run('hi', { instructions: 'Be kind.', temperature: 0.2 });
    expect(done).toMatchObject({
      status: 'completed',
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    });
    expect(await answerText(threadId, done.id)).toBe('Hello, world');
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      authorization: 'Bearer sk-model',
      body: {
        model: 'test-model',
        stream: true,
        temperature: 0.2,
        messages: [
          { role: 'system', content: 'Be kind.' },
          { role: 'user', content: 'hi' },
        ],
      },
    });
  });

  it('joins tool calls streamed in pieces into requires_action, then sends the outputs back', async () => {
    await start((_body, index) =>
      index === 0
        ? {
            kind: 'stream',
            chunks: [
              chunk({
                role: 'assistant',
                tool_calls: [
                  { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
                ],
              }),
              chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
              chunk({
                tool_calls: [
                  { index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
                ],
              }),
              chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }),
              chunk({}, 'tool_calls'),
            ],
          }
        : { kind: 'stream', chunks: [chunk({ content: 'It is sunny at noon.' }), chunk({}, 'stop')] },
    );
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
      { type: 'function', function: { name: 'get_time' } },
    ];
    const { threadId, run: waiting } = await run('weather and time?', { tools });
    expect(waiting.status).toBe('requires_action');
    expect(waiting.required_action?.submit_tool_outputs.tool_calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(model.requests[0]?.body.tools).toEqual(tools);

    await client.beta.threads.runs.submitToolOutputs(waiting.id, {
      thread_id: threadId,
      tool_outputs: [
        { tool_call_id: 'call_b', output: 'noon' },
        { tool_call_id: 'call_a', output: 'sunny' },
      ],
    });
    const done = await settle(threadId, waiting.id);
    expect(done.status).toBe('completed');
    expect(await answerText(threadId, waiting.id)).toBe('It is sunny at noon.');
    expect(model.requests[1]?.body.messages).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_b', content: 'noon' },
      { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
    ]);
  });

  it('fails the run with last_error when the server answers 500', async () => {
    await start(() => ({
      kind: 'status',
      status: 500,
      body: { error: { message: 'model crashed', type: 'server_error' } },
    }));
    const { threadId, run: failed } = await run('hi');
    expect(failed).toMatchObject({
      status: 'failed',
      failed_at: expect.any(Number),
      last_error: { code: 'server_error' },
    });
    expect(failed.last_error?.message).toContain('500');
    expect((await client.beta.threads.messages.list(threadId, { run_id: failed.id })).data).toEqual([]);
  });

  it('fails the run with last_error when the connection drops mid-stream', async () => {
    await start(() => ({ kind: 'drop', chunks: [chunk({ content: 'partial ' }), chunk({ content: 'answ' })] }));
    const { threadId, run: failed } = await run('hi');
    expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });
    expect((await client.beta.threads.messages.list(threadId, { run_id: failed.id })).data).toEqual([]);
  });

  it('cancels a run while the model is still answering: the call is aborted and nothing is written', async () => {
    await start(() => ({ kind: 'hang' }));
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    const created = await client.beta.threads.runs.create(thread.id, {
      model: 'test-model',
    } as unknown as RunCreateParamsNonStreaming);
    await settle(thread.id, created.id, ['in_progress']);
    await until(
      async () => model.requests.length,
      (count) => count > 0,
    );
    const cancelling = await client.beta.threads.runs.cancel(created.id, { thread_id: thread.id });
    expect(cancelling.status).toBe('cancelling');
    expect(await settle(thread.id, created.id)).toMatchObject({ status: 'cancelled' });
    expect((await client.beta.threads.messages.list(thread.id, { run_id: created.id })).data).toEqual([]);
  });
});
