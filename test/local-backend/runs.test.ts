import type OpenAI from 'openai';
import { BadRequestError, NotFoundError } from 'openai';
import type { Run, RunCreateParamsNonStreaming } from 'openai/resources/beta/threads/runs/runs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { postgresReachable } from '../helpers/postgres.ts';
import { type ServedBackend, STORE_KINDS, serveRunBackend, until } from '../helpers/run-backend.ts';
import { reportSkip } from '../helpers/skips.ts';

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('runs on postgres', 'no PostgreSQL reachable');

/** A run body the SDK's types do not allow: `model` without `assistant_id` (the local backend's extension) or a wrong one. */
function body(fields: Record<string, unknown>): RunCreateParamsNonStreaming {
  return fields as unknown as RunCreateParamsNonStreaming;
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired', 'incomplete'];

const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: {} } },
};
/** A function tool named `name`, for a `/call name {}` message. */
const fnTool = (name: string) => ({ type: 'function' as const, function: { name } });

describe.each(STORE_KINDS)('runs and assistants over the $name store, through the openai SDK', (kind) => {
  const suite = kind.name !== 'postgres' || hasPostgres ? describe : describe.skip;
  suite('', () => {
    let data: Awaited<ReturnType<typeof kind.create>>;
    let served: ServedBackend;
    let client: OpenAI;

    beforeEach(async () => {
      data = await kind.create();
      served = await serveRunBackend(await data.open());
      client = served.client;
    });
    afterEach(async () => {
      await served.close();
      await data.dispose();
    });

    function settle(threadId: string, runId: string, statuses = TERMINAL): Promise<Run> {
      return until(
        () => client.beta.threads.runs.retrieve(runId, { thread_id: threadId }),
        (run) => statuses.includes(run.status),
      );
    }

    it('creates, lists, modifies and deletes assistants', async () => {
      const first = await client.beta.assistants.create({ model: 'echo', name: 'one', tools: [weather] });
      expect(first).toMatchObject({
        object: 'assistant',
        model: 'echo',
        name: 'one',
        description: null,
        instructions: null,
        tools: [weather],
        metadata: {},
        temperature: 1,
        top_p: 1,
        response_format: 'auto',
      });
      expect(first.id).toMatch(/^asst_[A-Za-z0-9]{24}$/);
      const second = await client.beta.assistants.create({ model: 'echo', name: 'two' });
      const page = await client.beta.assistants.list({ limit: 1, order: 'asc' });
      expect(page.data.map((a) => a.id)).toEqual([first.id]);
      expect(page.hasNextPage()).toBe(true);
      expect((await page.getNextPage()).data.map((a) => a.id)).toEqual([second.id]);
      const modified = await client.beta.assistants.update(first.id, {
        instructions: 'Be brief.',
        metadata: { k: 'v' },
      });
      expect(modified).toMatchObject({ name: 'one', instructions: 'Be brief.', metadata: { k: 'v' } });
      expect(await client.beta.assistants.retrieve(first.id)).toEqual(modified);
      expect(await client.beta.assistants.delete(first.id)).toEqual({
        id: first.id,
        object: 'assistant.deleted',
        deleted: true,
      });
      await expect(client.beta.assistants.retrieve(first.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('runs the echo model: queued -> completed, with an assistant message that carries the run id', async () => {
      const assistant = await client.beta.assistants.create({ model: 'echo', instructions: 'Echo.' });
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hello there, world' }] });
      const created = await client.beta.threads.runs.create(thread.id, {
        assistant_id: assistant.id,
        metadata: { a: 'b' },
      });
      expect(created).toMatchObject({
        object: 'thread.run',
        thread_id: thread.id,
        assistant_id: assistant.id,
        status: 'queued',
        model: 'echo',
        instructions: 'Echo.',
        metadata: { a: 'b' },
        usage: null,
        required_action: null,
        last_error: null,
      });
      expect(created.id).toMatch(/^run_[A-Za-z0-9]{24}$/);
      const run = await settle(thread.id, created.id);
      expect(run.status).toBe('completed');
      expect(run.started_at).toEqual(expect.any(Number));
      expect(run.completed_at).toEqual(expect.any(Number));
      // echo counts one token per four characters (docs/runs.md).
      // The prompt is the instructions and the thread, one per line: 'Echo.\nhello there, world' (24).
      expect(run.usage).toEqual({ prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 });

      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id });
      expect(messages.data).toHaveLength(1);
      expect(messages.data[0]).toMatchObject({
        role: 'assistant',
        run_id: run.id,
        assistant_id: assistant.id,
        content: [{ type: 'text', text: { value: 'hello there, world', annotations: [] } }],
      });
      expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(2);
      const runs = await client.beta.threads.runs.list(thread.id);
      expect(runs.data.map((r) => r.id)).toEqual([run.id]);
    });

    it('never calls a function the run does not have, or that tool_choice rules out', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: '/call f {}' }] });
      for (const settings of [{}, { tools: [weather] }, { tools: [fnTool('f')], tool_choice: 'none' as const }]) {
        const run = await client.beta.threads.runs.create(thread.id, body({ model: 'echo', ...settings }));
        expect((await settle(thread.id, run.id)).status).toBe('completed');
      }
      const answers = await client.beta.threads.messages.list(thread.id, { order: 'asc' });
      const texts = answers.data.filter((m) => m.role === 'assistant').map((m) => JSON.stringify(m.content));
      expect(texts).toHaveLength(3);
      for (const text of texts) expect(text).toContain('may not call a function named f');
    });

    it('takes `model` without an assistant, and a /call becomes requires_action until the outputs come', async () => {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: '/call get_weather {"city":"Oslo"}' }],
      });
      const created = await client.beta.threads.runs.create(thread.id, body({ model: 'echo', tools: [weather] }));
      expect(created.assistant_id).toBeNull();
      const waiting = await settle(thread.id, created.id, ['requires_action', ...TERMINAL]);
      expect(waiting.status).toBe('requires_action');
      const calls = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
      expect(calls).toEqual([
        {
          id: expect.stringMatching(/^call_/),
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        },
      ]);
      const callId = calls[0]?.id ?? '';

      // The thread is held: no second run, no new message.
      await expect(client.beta.threads.runs.create(thread.id, body({ model: 'echo' }))).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining('already has an active run'),
      });
      await expect(
        client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' }),
      ).rejects.toBeInstanceOf(BadRequestError);
      // Nor by the Conversations API's routes into the same thread.
      await expect(
        client.conversations.items.create(thread.id, { items: [{ type: 'message', role: 'user', content: 'x' }] }),
      ).rejects.toBeInstanceOf(BadRequestError);
      await expect(
        client.responses.create({ model: 'echo', conversation: thread.id, input: 'x' }),
      ).rejects.toBeInstanceOf(BadRequestError);
      // Tool outputs must answer exactly the required calls.
      for (const tool_outputs of [
        [{ tool_call_id: 'call_wrong', output: 'x' }],
        [],
        [
          { tool_call_id: callId, output: 'x' },
          { tool_call_id: callId, output: 'y' },
        ],
      ]) {
        await expect(
          client.beta.threads.runs.submitToolOutputs(created.id, { thread_id: thread.id, tool_outputs }),
        ).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error' } });
      }

      const resumed = await client.beta.threads.runs.submitToolOutputs(created.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: callId, output: 'sunny, 21 C' }],
      });
      expect(resumed.status).toBe('queued');
      const done = await settle(thread.id, created.id);
      expect(done.status).toBe('completed');
      const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: created.id })).data;
      const text = answer?.content[0]?.type === 'text' ? answer.content[0].text.value : '';
      expect(text).toContain('sunny, 21 C');
      // A finished run is immutable.
      await expect(
        client.beta.threads.runs.submitToolOutputs(created.id, {
          thread_id: thread.id,
          tool_outputs: [{ tool_call_id: callId, output: 'again' }],
        }),
      ).rejects.toMatchObject({ status: 400 });
      await expect(client.beta.threads.runs.cancel(created.id, { thread_id: thread.id })).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining("status 'completed'"),
      });
    });

    it('cancels a run waiting for tool outputs: cancelling, then cancelled, and the thread is free again', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: '/call f {}' }] });
      const created = await client.beta.threads.runs.create(thread.id, body({ model: 'echo', tools: [fnTool('f')] }));
      await settle(thread.id, created.id, ['requires_action']);
      const cancelling = await client.beta.threads.runs.cancel(created.id, { thread_id: thread.id });
      expect(cancelling.status).toBe('cancelling');
      const cancelled = await settle(thread.id, created.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(Number) });
      await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'after' });
      expect((await client.beta.threads.messages.list(thread.id, { run_id: created.id })).data).toEqual([]);
    });

    it('fails a run whose model is not configured, naming the setting', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      const created = await client.beta.threads.runs.create(thread.id, body({ model: 'gpt-4o' }));
      const run = await settle(thread.id, created.id);
      expect(run).toMatchObject({ status: 'failed', failed_at: expect.any(Number) });
      // The API's description allows server_error, rate_limit_exceeded and invalid_prompt: the message says which setting.
      expect(run.last_error?.code).toBe('server_error');
      expect(run.last_error?.message).toContain('LOCAL_BACKEND_MODEL_URL');
    });

    it('refuses what the API refuses: unknown fields, no model, too many tools, stream, unknown assistant', async () => {
      const thread = await client.beta.threads.create();
      const create = (fields: Record<string, unknown>) => client.beta.threads.runs.create(thread.id, body(fields));
      await expect(create({ model: 'echo', colour: 'red' })).rejects.toMatchObject({ status: 400, param: 'colour' });
      await expect(create({})).rejects.toMatchObject({ status: 400, param: 'assistant_id' });
      // The description's bounds: 20 tools a run, file search's options, a JSON schema's fields, efforts.
      await expect(create({ model: 'echo', tools: Array.from({ length: 21 }, () => weather) })).rejects.toMatchObject({
        status: 400,
        param: 'tools',
      });
      const fileSearch = (options: unknown) =>
        create({ model: 'echo', tools: [{ type: 'file_search', file_search: options }] });
      await expect(fileSearch({ max_num_results: 51 })).rejects.toMatchObject({
        param: 'tools[0].file_search.max_num_results',
      });
      await expect(fileSearch({ ranking_options: { ranker: 'nope', score_threshold: 0.5 } })).rejects.toMatchObject({
        param: 'tools[0].file_search.ranking_options.ranker',
      });
      await expect(fileSearch({ ranking_options: { ranker: 'auto' } })).rejects.toMatchObject({
        param: 'tools[0].file_search.ranking_options.score_threshold',
      });
      const jsonSchema = (schema: Record<string, unknown>) =>
        create({ model: 'echo', response_format: { type: 'json_schema', json_schema: { name: 'x', ...schema } } });
      await expect(jsonSchema({ strict: 'yes' })).rejects.toMatchObject({
        param: 'response_format.json_schema.strict',
      });
      await expect(jsonSchema({ bogus: 1 })).rejects.toMatchObject({ param: 'response_format.json_schema.bogus' });
      await expect(create({ model: 'echo', reasoning_effort: 'banana' })).rejects.toMatchObject({
        param: 'reasoning_effort',
      });
      const crowded = await client.beta.assistants.create({
        model: 'echo',
        tools: Array.from({ length: 21 }, (_, index) => ({ type: 'function', function: { name: `f${index}` } })),
      });
      await expect(create({ assistant_id: crowded.id })).rejects.toMatchObject({ status: 400, param: 'tools' });
      await expect(create({ assistant_id: crowded.id, tools: [weather] })).resolves.toMatchObject({ tools: [weather] });
      await settle(thread.id, (await client.beta.threads.runs.list(thread.id)).data[0]?.id ?? '');
      const huge = { type: 'object', description: 'x'.repeat(64 * 1024) };
      await expect(
        create({ model: 'echo', tools: [{ type: 'function', function: { name: 'f', parameters: huge } }] }),
      ).rejects.toMatchObject({ status: 400, param: 'tools[0].function.parameters' });
      await expect(create({ model: 'echo', instructions: 'x'.repeat(256_001) })).rejects.toMatchObject({
        status: 400,
        param: 'instructions',
      });
      await expect(create({ model: 'echo', stream: 'yes' })).rejects.toMatchObject({ status: 400, param: 'stream' });
      await expect(create({ assistant_id: 'asst_missing' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(client.beta.threads.runs.create('thread_missing', body({ model: 'echo' }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect((await client.beta.threads.runs.list(thread.id)).data).toHaveLength(1);
    });

    it('adds additional_messages before the run and lets run settings override the assistant', async () => {
      const assistant = await client.beta.assistants.create({ model: 'echo', instructions: 'A', temperature: 0.5 });
      const thread = await client.beta.threads.create();
      const created = await client.beta.threads.runs.create(thread.id, {
        assistant_id: assistant.id,
        instructions: 'B',
        additional_instructions: 'C',
        top_p: 0.3,
        additional_messages: [{ role: 'user', content: 'from the run' }],
      });
      expect(created).toMatchObject({ instructions: 'B\n\nC', temperature: 0.5, top_p: 0.3 });
      await settle(thread.id, created.id);
      const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: created.id })).data;
      expect(answer?.content[0]).toMatchObject({ text: { value: 'from the run' } });
    });
  });
});

describe.each(STORE_KINDS.filter((kind) => kind.name !== 'memory'))('runs across a restart: $name', (kind) => {
  const suite = kind.name !== 'postgres' || hasPostgres ? it : it.skip;

  suite('expires a run past LOCAL_BACKEND_RUN_TIMEOUT_S, and fails runs left in flight, saying the backend restarted', async () => {
    const data = await kind.create();
    let served = await serveRunBackend(await data.open(), { timeoutMs: 1_000 });
    try {
      let client = served.client;
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: '/call f {}' }] });
      const waiting = await client.beta.threads.runs.create(thread.id, body({ model: 'echo', tools: [fnTool('f')] }));
      const expired = await until(
        () => client.beta.threads.runs.retrieve(waiting.id, { thread_id: thread.id }),
        (run) => run.status === 'expired',
      );
      expect(expired.status).toBe('expired');
      await expect(
        client.beta.threads.runs.submitToolOutputs(waiting.id, {
          thread_id: thread.id,
          tool_outputs: [{ tool_call_id: 'call_x', output: 'late' }],
        }),
      ).rejects.toMatchObject({ status: 400 });

      // A run the process never got to finish: its model hangs, and the process stops as a crash would.
      await served.close();
      const hanging = await startChatCompletionsServer(() => ({ kind: 'hang' }));
      served = await serveRunBackend(await data.open(), { model: { url: hanging.url } });
      client = served.client;
      const second = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
      const inFlight = await client.beta.threads.runs.create(second.id, body({ model: 'any' }));
      await until(
        () => client.beta.threads.runs.retrieve(inFlight.id, { thread_id: second.id }),
        (run) => run.status === 'in_progress',
      );
      await until(
        async () => hanging.requests.length,
        (count) => count > 0,
      );
      await served.close(); // stops the model call without writing, then closes the store
      await hanging.close();

      served = await serveRunBackend(await data.open());
      client = served.client;
      const after = await client.beta.threads.runs.retrieve(inFlight.id, { thread_id: second.id });
      expect(after.status).toBe('failed');
      expect(after.last_error).toMatchObject({ code: 'server_error', message: expect.stringMatching(/restarted/) });
      const again = await client.beta.threads.runs.create(second.id, body({ model: 'echo' }));
      expect(again.status).toBe('queued');
    } finally {
      await served.close();
      await data.dispose();
    }
  });
});
