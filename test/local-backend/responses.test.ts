import { BadRequestError, NotFoundError, RateLimitError } from 'openai';
import type { Response, ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/local-backend/runs/routes.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { withQuota } from '../../src/local-backend/store/quota.ts';
import {
  type ChatCompletionsServer,
  type ChatReply,
  chunk,
  startChatCompletionsServer,
} from '../helpers/chat-completions-server.ts';
import { postgresReachable } from '../helpers/postgres.ts';
import { type ServedBackend, STORE_KINDS, serveRunBackend, until } from '../helpers/run-backend.ts';
import { reportSkip } from '../helpers/skips.ts';

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('responses on postgres', 'no PostgreSQL reachable');

const FINAL = ['completed', 'failed', 'cancelled', 'incomplete'];

/** A body the SDK's types do not allow (unknown or unsupported fields). */
function body(fields: Record<string, unknown>): ResponseCreateParamsNonStreaming {
  return fields as unknown as ResponseCreateParamsNonStreaming;
}

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: false,
};

describe.each(STORE_KINDS)('/v1/responses over the $name store, through the openai SDK', (kind) => {
  const suite = kind.name !== 'postgres' || hasPostgres ? describe : describe.skip;
  suite('', () => {
    let data: Awaited<ReturnType<typeof kind.create>>;
    let served: ServedBackend | undefined;
    let model: ChatCompletionsServer | undefined;

    async function serve(runs: RunOptions = {}): Promise<ServedBackend> {
      served = await serveRunBackend(await data.open(), runs);
      return served;
    }

    /** A backend whose model is a Chat Completions server answering `reply`. */
    async function serveModel(reply: (body: Record<string, unknown>) => ChatReply, runs: RunOptions = {}) {
      model = await startChatCompletionsServer(reply);
      return serve({ ...runs, model: { url: model.url } });
    }

    beforeEach(async () => {
      data = await kind.create();
    });
    afterEach(async () => {
      await served?.close();
      served = undefined;
      await model?.close();
      model = undefined;
      await data.dispose();
    });

    function settle(client: ServedBackend['client'], id: string): Promise<Response> {
      return until(
        () => client.responses.retrieve(id),
        (response) => FINAL.includes(response.status ?? ''),
      );
    }

    it('answers a response in a conversation when it is complete, and adds its input and output to the conversation', async () => {
      const { client } = await serve();
      const conversation = await client.conversations.create({
        items: [{ type: 'message', role: 'user', content: 'an earlier turn' }],
      });
      const response = await client.responses.create({
        model: 'echo',
        conversation: conversation.id,
        input: 'hello there, world',
        instructions: 'Echo.',
        metadata: { k: 'v' },
      });
      expect(response).toMatchObject({
        object: 'response',
        status: 'completed',
        model: 'echo',
        background: false,
        conversation: { id: conversation.id },
        instructions: 'Echo.',
        metadata: { k: 'v' },
        error: null,
        incomplete_details: null,
        tools: [],
        tool_choice: 'auto',
        parallel_tool_calls: true,
        temperature: 1,
        top_p: 1,
      });
      expect(response.id).toMatch(/^resp_[A-Za-z0-9]{24}$/);
      expect(response.completed_at).toEqual(expect.any(Number));
      expect(response.output_text).toBe('hello there, world');
      expect(response.output).toEqual([
        {
          id: expect.any(String),
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'hello there, world', annotations: [], logprobs: [] }],
        },
      ]);
      // echo: one token per four characters; the prompt is instructions and the conversation, one per line.
      const prompt = Math.ceil('Echo.\nan earlier turn\nhello there, world'.length / 4);
      expect(response.usage).toEqual({
        input_tokens: prompt,
        input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: prompt + 5,
      });

      const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
      expect(items.data.map((item) => (item.type === 'message' ? [item.role, item.content] : item.type))).toEqual([
        ['user', [{ type: 'input_text', text: 'an earlier turn' }]],
        ['user', [{ type: 'input_text', text: 'hello there, world' }]],
        ['assistant', [{ type: 'output_text', text: 'hello there, world', annotations: [], logprobs: [] }]],
      ]);
      // The output item and the conversation item are one item.
      expect(items.data[2]?.id).toBe(response.output[0]?.id);
      expect(await client.responses.retrieve(response.id)).toEqual(response);
    });

    it('drives a background response: queued at once, completed when polled', async () => {
      const { client } = await serve();
      const created = await client.responses.create({ model: 'echo', input: 'in the background', background: true });
      expect(created).toMatchObject({
        status: 'queued',
        background: true,
        output: [],
        conversation: null,
      });
      // No usage yet: left out, as the API's description has it (never null).
      expect(created).not.toHaveProperty('usage');
      const done = await settle(client, created.id);
      expect(done.status).toBe('completed');
      expect(done.output_text).toBe('in the background');
    });

    it('makes a function call that the next response answers, both kept in the conversation', async () => {
      const { client } = await serve();
      const conversation = await client.conversations.create({});
      const calling = await client.responses.create({
        model: 'echo',
        conversation: conversation.id,
        tools: [weather],
        input: [{ role: 'user', content: '/call get_weather {"city":"Paris"}' }],
      });
      expect(calling.status).toBe('completed');
      expect(calling.tools).toEqual([weather]);
      expect(calling.output).toEqual([
        {
          id: expect.any(String),
          type: 'function_call',
          status: 'completed',
          call_id: expect.stringMatching(/^call_/),
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
        },
      ]);
      const call = calling.output[0];
      if (call?.type !== 'function_call') throw new Error('no function call');

      const answered = await client.responses.create({
        model: 'echo',
        conversation: { id: conversation.id },
        tools: [weather],
        input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' }],
      });
      expect(answered.status).toBe('completed');
      expect(answered.output_text).toBe(`Tool outputs: ${call.call_id}: sunny, 21 C`);

      const items = (await client.conversations.items.list(conversation.id, { order: 'asc' })).data;
      expect(items.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call_output', 'message']);
      expect(items[1]).toEqual({
        id: call.id,
        type: 'function_call',
        call_id: call.call_id,
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      });
      expect(items[2]).toMatchObject({ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' });
      expect(await client.conversations.items.retrieve(call.id ?? '', { conversation_id: conversation.id })).toEqual(
        items[1],
      );
    });

    it('answers function call outputs without a conversation when the input carries the call', async () => {
      const { client } = await serve();
      const response = await client.responses.create({
        model: 'echo',
        input: [
          { role: 'user', content: 'weather?' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'rain' },
        ],
      });
      expect(response.output_text).toBe('Tool outputs: call_1: rain');
    });

    it('cancels a background response; a non-background one cannot be cancelled', async () => {
      const { client } = await serveModel(() => ({ kind: 'hang' }));
      const created = await client.responses.create({ model: 'm', input: 'wait', background: true });
      await until(
        () => client.responses.retrieve(created.id),
        (response) => response.status === 'in_progress',
      );
      const cancelled = await client.responses.cancel(created.id);
      expect(cancelled).toMatchObject({ id: created.id, status: 'cancelled', output: [] });
      expect((await client.responses.retrieve(created.id)).status).toBe('cancelled');
      // Cancelling again answers the cancelled response, as the API does.
      expect((await client.responses.cancel(created.id)).status).toBe('cancelled');

      await model?.close();
      model = await startChatCompletionsServer(() => ({ kind: 'stream', chunks: [chunk({ content: 'ok' }, 'stop')] }));
      await served?.close();
      const { client: second } = await serve({ model: { url: model.url } });
      const foreground = await second.responses.create({ model: 'm', input: 'now' });
      expect(foreground.status).toBe('completed');
      const refused = await second.responses.cancel(foreground.id).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BadRequestError);
      expect((refused as BadRequestError).message).toMatch(/background/);
    });

    it('fails a model name with no server, naming the setting', async () => {
      const { client } = await serve();
      const response = await client.responses.create({ model: 'gpt-4o', input: 'hi' });
      expect(response.status).toBe('failed');
      expect(response.error?.code).toBe('server_error');
      expect(response.error?.message).toMatch(/LOCAL_BACKEND_MODEL_URL/);
      expect(response.output).toEqual([]);
    });

    it('fails a response left in progress, saying so, when the next backend opens the store', async () => {
      const { client } = await serveModel(() => ({ kind: 'hang' }));
      const conversation = await client.conversations.create({});
      const created = await client.responses.create({
        model: 'm',
        conversation: conversation.id,
        input: 'wait',
        background: true,
      });
      await until(
        () => client.responses.retrieve(created.id),
        (response) => response.status === 'in_progress',
      );
      await served?.close(); // the store closes too: SQLite and PostgreSQL are opened again below
      const { client: after } = await serve();
      const failed = await after.responses.retrieve(created.id);
      expect(failed).toMatchObject({
        status: 'failed',
        error: { code: 'server_error', message: expect.stringMatching(/restarted/) },
        output: [],
      });
      // Its input stays in the conversation; nothing was answered.
      const items = await after.conversations.items.list(conversation.id);
      expect(items.data.map((item) => item.type)).toEqual(['message']);
    });

    it('fails a response not finished within the timeout', async () => {
      const { client } = await serveModel(() => ({ kind: 'hang' }), { timeoutMs: 300 });
      const response = await client.responses.create({ model: 'm', input: 'wait' });
      expect(response).toMatchObject({
        status: 'failed',
        error: { code: 'server_error', message: expect.stringMatching(/LOCAL_BACKEND_RUN_TIMEOUT_S/) },
      });
    });

    it('sends a Chat Completions server the instructions and the conversation, and keeps its streamed text', async () => {
      const { client } = await serveModel(() => ({
        kind: 'stream',
        chunks: [
          chunk({ role: 'assistant', content: '' }),
          chunk({ content: 'Hel' }),
          chunk({ content: 'lo' }),
          chunk({}, 'stop'),
          { ...chunk({}), choices: [], usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 } },
        ],
      }));
      const conversation = await client.conversations.create({
        items: [{ type: 'message', role: 'user', content: 'first' }],
      });
      const response = await client.responses.create({
        model: 'test-model',
        conversation: conversation.id,
        instructions: 'Be brief.',
        input: 'second',
        max_output_tokens: 100,
        tools: [weather],
        tool_choice: { type: 'function', name: 'get_weather' },
      });
      expect(response).toMatchObject({ status: 'completed', output_text: 'Hello', max_output_tokens: 100 });
      expect(response.usage).toMatchObject({ input_tokens: 12, output_tokens: 2, total_tokens: 14 });
      expect(model?.requests[0]?.body).toMatchObject({
        model: 'test-model',
        stream: true,
        max_completion_tokens: 100,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'first' },
          { role: 'user', content: 'second' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather.parameters } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      // Instructions do not carry over: the next response without them sends none.
      await client.responses.create({ model: 'test-model', conversation: conversation.id, input: 'third' });
      const messages = model?.requests[1]?.body.messages as Array<{ role: string }>;
      expect(messages.map((message) => message.role)).toEqual(['user', 'user', 'assistant', 'user']);
    });

    it('refuses what it does not serve with the API’s 400s, and a missing response or conversation with 404', async () => {
      const { client } = await serve();
      const refusals: Array<[Record<string, unknown>, string | null, string]> = [
        [{ model: 'echo', input: 'x', colour: 'red' }, 'unknown_parameter', 'colour'],
        [{ model: 'echo', input: 'x', stream: 'yes' }, null, 'stream'],
        [{ model: 'echo', input: 'x', store: false }, 'unsupported_parameter', 'store'],
        [{ input: 'x' }, 'missing_required_parameter', 'model'],
        [{ model: 'echo', input: 'x', temperature: 3 }, null, 'temperature'],
        [{ model: 'echo', input: 'x', max_output_tokens: 8 }, null, 'max_output_tokens'],
        [{ model: 'echo', input: [{ type: 'reasoning', summary: [] }] }, null, 'input[0].type'],
        [{ model: 'echo', input: 'x', tools: [{ type: 'web_search' }] }, null, 'tools[0].type'],
        [
          { model: 'echo', input: [{ type: 'function_call_output', call_id: 'call_nope', output: 'x' }] },
          null,
          'input[0].call_id',
        ],
      ];
      for (const [fields, code, param] of refusals) {
        const error = await client.responses.create(body(fields)).catch((caught: unknown) => caught);
        expect(error, JSON.stringify(fields)).toBeInstanceOf(BadRequestError);
        expect((error as BadRequestError).code, JSON.stringify(fields)).toBe(code);
        expect((error as BadRequestError).param, JSON.stringify(fields)).toBe(param);
      }
      await expect(client.responses.retrieve('resp_missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        client.responses.create({ model: 'echo', conversation: 'conv_missing', input: 'x' }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});

describe('/v1/responses under the storage quota', () => {
  it('refuses a response whose input does not fit with 429 storage_quota, as run creates are', async () => {
    const served = await serveRunBackend(withQuota(new MemoryStore(), 4_000));
    try {
      const small = await served.client.responses.create({ model: 'echo', input: 'fits' });
      expect(small.status).toBe('completed');
      const error = await served.client.responses
        .create({ model: 'echo', input: 'x'.repeat(5_000) })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).code).toBe('storage_quota');
    } finally {
      await served.close();
    }
  });
});
