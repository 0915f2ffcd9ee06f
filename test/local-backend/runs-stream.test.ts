import { request } from 'node:http';
import OpenAI from 'openai';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run, RunCreateParamsStreaming } from 'openai/resources/beta/threads/runs/runs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/local-backend/backend.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { type ChatReply, chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { checkStreamEvent, describeDivergence } from '../helpers/openapi.ts';
import { postgresReachable } from '../helpers/postgres.ts';
import { type ServedBackend, STORE_KINDS, serveRunBackend, until } from '../helpers/run-backend.ts';
import { reportSkip } from '../helpers/skips.ts';
import { dataOf, parseSse, streamDivergences } from '../helpers/sse.ts';

/**
 * Streamed runs (`stream: true` on create and on submit_tool_outputs), read with the real openai
 * SDK (or raw HTTP where the SDK hides what is checked) from a local backend on a port.
 */

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('streamed runs on postgres', 'no PostgreSQL reachable');

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired', 'incomplete'];
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: {} } },
};

/** A long answer of every width UTF-8 and UTF-16 have: ASCII, Latin, CJK, Hangul, astral emoji, ZWJ sequences. */
const WORDS = ['héllo', '🌍', '世界', '👩‍👩‍👧‍👦', 'ｶﾀｶﾅ', '𝄞music', 'naïve', '한국어', 'emoji🎉end', '¿qué?', 'plain'];
const LONG_TEXT = Array.from({ length: 2_500 }, (_, index) => WORDS[index % WORDS.length]).join(' ');

/**
 * A streamed run of `assistantId` (an assistant, not only a model: a run without one answers
 * `assistant_id: null`, the local backend's one documented divergence, and would not validate).
 */
function streaming(assistantId: string): RunCreateParamsStreaming {
  return { assistant_id: assistantId, stream: true };
}

async function collect(stream: AsyncIterable<AssistantStreamEvent>): Promise<AssistantStreamEvent[]> {
  const events: AssistantStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function names(events: readonly AssistantStreamEvent[]): string[] {
  return events.map((event) => event.event);
}

/** The events' names with each run of deltas folded into one `…delta*`, to compare orders. */
function order(events: readonly AssistantStreamEvent[]): string[] {
  return names(events).filter((name, index, all) => name !== 'thread.message.delta' || all[index - 1] !== name);
}

function deltaText(events: readonly AssistantStreamEvent[]): string {
  return events
    .flatMap((event) => (event.event === 'thread.message.delta' ? (event.data.delta.content ?? []) : []))
    .map((part) => (part.type === 'text' ? (part.text?.value ?? '') : ''))
    .join('');
}

function invalid(events: readonly AssistantStreamEvent[]): string[] {
  return events.flatMap((event) => {
    const divergence = checkStreamEvent('assistant', event.event, event.data);
    return divergence ? [describeDivergence(divergence)] : [];
  });
}

function dataOfLast<T>(events: readonly AssistantStreamEvent[], name: string): T {
  return events.findLast((event) => event.event === name)?.data as T;
}

function textOf(message: Message | undefined): string {
  return message?.content[0]?.type === 'text' ? message.content[0].text.value : '';
}

describe.each(STORE_KINDS)('streamed runs over the $name store', (kind) => {
  const suite = kind.name !== 'postgres' || hasPostgres ? describe : describe.skip;
  suite('', () => {
    let data: Awaited<ReturnType<typeof kind.create>>;
    let served: ServedBackend;
    let client: OpenAI;
    let echo: string;

    beforeEach(async () => {
      data = await kind.create();
      served = await serveRunBackend(await data.open());
      client = served.client;
      echo = (await client.beta.assistants.create({ model: 'echo', tools: [weather] })).id;
    });
    afterEach(async () => {
      await served.close();
      await data.dispose();
    });

    it('streams a long multi-byte answer: the API’s events in order, each valid, the deltas the stored text byte for byte', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: LONG_TEXT }] });
      const events = await collect(await client.beta.threads.runs.create(thread.id, streaming(echo)));
      expect(order(events)).toEqual([
        'thread.run.created',
        'thread.run.queued',
        'thread.run.in_progress',
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.message.created',
        'thread.message.in_progress',
        'thread.message.delta',
        'thread.message.completed',
        'thread.run.step.completed',
        'thread.run.completed',
      ]);
      expect(names(events).filter((name) => name === 'thread.message.delta').length).toBeGreaterThan(2_000);
      expect(invalid(events)).toEqual([]);

      const run = dataOfLast<Run>(events, 'thread.run.completed');
      expect(run).toEqual(await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id }));
      const [stored] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
      expect(dataOfLast(events, 'thread.message.completed')).toEqual(stored);
      const created = dataOfLast<Message>(events, 'thread.message.created');
      expect(created).toMatchObject({ id: stored?.id, created_at: stored?.created_at, status: 'in_progress' });
      expect(Buffer.from(deltaText(events)).equals(Buffer.from(textOf(stored)))).toBe(true);
      expect(deltaText(events)).toBe(LONG_TEXT);
    });

    it('ends a stream at requires_action, and streams the rest from submit_tool_outputs', async () => {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: '/call get_weather {"city":"Oslo"}' }],
      });
      const first = await collect(await client.beta.threads.runs.create(thread.id, streaming(echo)));
      expect(names(first)).toEqual([
        'thread.run.created',
        'thread.run.queued',
        'thread.run.in_progress',
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.run.requires_action',
      ]);
      const waiting = dataOfLast<Run>(first, 'thread.run.requires_action');
      const [call] = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
      expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });

      const rest = await collect(
        await client.beta.threads.runs.submitToolOutputs(waiting.id, {
          thread_id: thread.id,
          tool_outputs: [{ tool_call_id: call?.id ?? '', output: 'sunny ☀️' }],
          stream: true,
        }),
      );
      expect(order(rest)).toEqual([
        'thread.run.queued',
        'thread.run.step.completed',
        'thread.run.in_progress',
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.message.created',
        'thread.message.in_progress',
        'thread.message.delta',
        'thread.message.completed',
        'thread.run.step.completed',
        'thread.run.completed',
      ]);
      expect(deltaText(rest)).toBe(`Tool outputs: ${call?.id}: sunny ☀️`);
      expect([...invalid(first), ...invalid(rest)]).toEqual([]);
    });
  });
});

describe('streamed runs, the answer as HTTP carries it', () => {
  let served: ServedBackend;
  afterEach(() => served.close());

  it('answers 200 text/event-stream, uncached and unbuffered, each event’s data valid, and ends with done [DONE]', async () => {
    served = await serveRunBackend(new MemoryStore());
    const assistant = await served.client.beta.assistants.create({ model: 'echo' });
    const thread = await served.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi 👋 there' }] });
    const response = await fetch(`${served.url}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-local', 'openai-beta': 'assistants=v2', 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const text = await response.text();
    expect(text.endsWith('event: done\ndata: [DONE]\n\n')).toBe(true);
    const events = parseSse(text);
    expect(events.at(-2)?.event).toBe('thread.run.completed');
    expect(streamDivergences('assistant', events)).toEqual([]);
    expect(events.filter((event) => event.event === 'thread.message.delta').map(dataOf)).toHaveLength(3);
  });
});

describe('streamed runs through the in-process fetch door (the gateway in local mode)', () => {
  it('streams the same events as over a port', async () => {
    const backend = createLocalBackend();
    const client = new OpenAI({
      apiKey: 'sk-local',
      baseURL: 'http://local-backend/v1',
      fetch: (input, init) => backend.fetch(input instanceof Request ? input : new Request(input, init)),
    });
    try {
      const assistant = await client.beta.assistants.create({ model: 'echo' });
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'in 🏠 process' }] });
      const events = await collect(await client.beta.threads.runs.create(thread.id, streaming(assistant.id)));
      expect(order(events)).toEqual([
        'thread.run.created',
        'thread.run.queued',
        'thread.run.in_progress',
        'thread.run.step.created',
        'thread.run.step.in_progress',
        'thread.message.created',
        'thread.message.in_progress',
        'thread.message.delta',
        'thread.message.completed',
        'thread.run.step.completed',
        'thread.run.completed',
      ]);
      expect(deltaText(events)).toBe('in 🏠 process');
      expect(invalid(events)).toEqual([]);
    } finally {
      await backend.stop();
    }
  });
});

describe('streamed runs over a Chat Completions server (a tool-calling model)', () => {
  let served: ServedBackend;
  let close: () => Promise<void>;
  /** An assistant on the model server, with the weather tool. */
  let assistant: string;
  afterEach(async () => {
    await served.close();
    await close();
  });

  async function start(reply: (body: Record<string, unknown>, index: number) => ChatReply, limits = {}) {
    const model = await startChatCompletionsServer(reply);
    close = model.close;
    served = await serveRunBackend(new MemoryStore(), { model: { url: model.url } }, { streams: limits });
    assistant = (await served.client.beta.assistants.create({ model: 'test-model', tools: [weather] })).id;
    return served.client;
  }

  async function threadWith(client: OpenAI, content: string): Promise<string> {
    return (await client.beta.threads.create({ messages: [{ role: 'user', content }] })).id;
  }

  it('streams the text a model writes before its tool calls as a message left incomplete, then the answer', async () => {
    const client = await start((_body, index) =>
      index === 0
        ? {
            kind: 'stream',
            chunks: [
              chunk({ role: 'assistant', content: 'Let me look ' }),
              chunk({ content: 'that up 🌦️…' }),
              chunk({
                tool_calls: [
                  { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
                ],
              }),
              chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }),
              chunk({}, 'tool_calls'),
            ],
          }
        : {
            kind: 'stream',
            chunks: [chunk({ content: 'It is sunny' }), chunk({ content: ' ☀️ 晴れ' }), chunk({}, 'stop')],
          },
    );
    const threadId = await threadWith(client, 'weather?');
    const first = await collect(await client.beta.threads.runs.create(threadId, streaming(assistant)));
    expect(order(first)).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.delta',
      'thread.message.incomplete',
      'thread.run.step.cancelled',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.requires_action',
    ]);
    expect(dataOfLast(first, 'thread.message.incomplete')).toMatchObject({
      status: 'incomplete',
      content: [{ type: 'text', text: { value: 'Let me look that up 🌦️…' } }],
    });
    const rest = await collect(
      await client.beta.threads.runs.submitToolOutputs(dataOfLast<Run>(first, 'thread.run.requires_action').id, {
        thread_id: threadId,
        tool_outputs: [{ tool_call_id: 'call_a', output: 'sunny' }],
        stream: true,
      }),
    );
    expect(deltaText(rest)).toBe('It is sunny ☀️ 晴れ');
    const run = dataOfLast<Run>(rest, 'thread.run.completed');
    // The thread keeps only the answer: the text before the tool calls stays with the tool round.
    const written = (await client.beta.threads.messages.list(threadId, { run_id: run.id })).data;
    expect(written.map(textOf)).toEqual(['It is sunny ☀️ 晴れ']);
    expect([...invalid(first), ...invalid(rest)]).toEqual([]);
  });

  it('keeps running when the client goes away mid-stream, and stores the answer as without stream', async () => {
    const pieces = Array.from({ length: 30 }, (_, index) => `piece ${index} 🧩 `);
    const client = await start(() => ({
      kind: 'stream',
      intervalMs: 5,
      chunks: pieces.map((content) => chunk({ content })),
    }));
    const threadId = await threadWith(client, 'go');
    const stream = await client.beta.threads.runs.create(threadId, streaming(assistant));
    let runId = '';
    for await (const event of stream) {
      if (event.event === 'thread.run.created') runId = event.data.id;
      if (event.event === 'thread.message.delta') break; // the SDK aborts the request
    }
    const run = await until(
      () => client.beta.threads.runs.retrieve(runId, { thread_id: threadId }),
      (r) => TERMINAL.includes(r.status),
    );
    expect(run.status).toBe('completed');
    const [message] = (await client.beta.threads.messages.list(threadId, { run_id: runId })).data;
    expect(textOf(message)).toBe(pieces.join(''));
  });

  /**
   * A streamed run of `words` words (10 ms apart) on a new thread, read to its end; `act` runs once,
   * at the first delta (a delete, a cancel: whatever lands mid-answer).
   */
  async function streamWithAct(
    words: number,
    act: (client: OpenAI, threadId: string, events: AssistantStreamEvent[]) => Promise<unknown>,
  ) {
    const chunks = Array.from({ length: words }, (_, index) => chunk({ content: `word${index} ` }));
    const client = await start(() => ({ kind: 'stream', intervalMs: 10, chunks }));
    const threadId = await threadWith(client, 'go');
    const events: AssistantStreamEvent[] = [];
    for await (const event of await client.beta.threads.runs.create(threadId, streaming(assistant))) {
      events.push(event);
      if (event.event === 'thread.message.delta' && names(events).indexOf(event.event) === events.length - 1) {
        await act(client, threadId, events);
      }
    }
    return { client, threadId, events };
  }

  it('ends the stream of a run whose thread is deleted under it, with an error event', async () => {
    const { events } = await streamWithAct(40, (client, threadId) => client.beta.threads.delete(threadId));
    // It ends (it used to wait forever) with the API's error event, once the model is done.
    expect(names(events)).toContain('thread.message.delta');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'run_not_found' } });
    expect(invalid(events)).toEqual([]);
  });

  it('cancels while streaming: cancelling, the message left incomplete (run_cancelled), cancelled', async () => {
    const { client, threadId, events } = await streamWithAct(200, (client, threadId, events) =>
      client.beta.threads.runs.cancel(dataOfLast<Run>(events, 'thread.run.created').id, { thread_id: threadId }),
    );
    expect(order(events).slice(-4)).toEqual([
      'thread.run.cancelling',
      'thread.message.incomplete',
      'thread.run.step.cancelled',
      'thread.run.cancelled',
    ]);
    expect(dataOfLast(events, 'thread.message.incomplete')).toMatchObject({
      incomplete_details: { reason: 'run_cancelled' },
    });
    expect(invalid(events)).toEqual([]);
    const run = dataOfLast<Run>(events, 'thread.run.cancelled');
    expect((await client.beta.threads.messages.list(threadId, { run_id: run.id })).data).toEqual([]);
  });

  it('fails the run when the model breaks off mid-stream: the message left incomplete (run_failed), failed', async () => {
    const client = await start(() => ({ kind: 'drop', chunks: [chunk({ content: 'Half an ans' })] }));
    const threadId = await threadWith(client, 'go');
    const events = await collect(await client.beta.threads.runs.create(threadId, streaming(assistant)));
    expect(order(events).slice(-3)).toEqual([
      'thread.message.incomplete',
      'thread.run.step.failed',
      'thread.run.failed',
    ]);
    expect(dataOfLast(events, 'thread.message.incomplete')).toMatchObject({
      incomplete_details: { reason: 'run_failed' },
    });
    expect(dataOfLast<Run>(events, 'thread.run.failed').last_error?.code).toBe('server_error');
    expect(invalid(events)).toEqual([]);
  });

  it('holds a client that does not read to a bounded log: it gets an error event, the run completes whole', async () => {
    // 32 MB of answer, far past what the sockets' buffers hold; the stream may hold 256 KB.
    const piece = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 512 }, () => chunk({ content: piece }));
    const client = await start(() => ({ kind: 'stream', chunks }), { maxBytes: 256 * 1024 });
    const threadId = await threadWith(client, 'go');
    const url = new URL(`${served.url}/threads/${threadId}/runs`);
    const paused = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const post = request(url, {
        method: 'POST',
        headers: {
          authorization: 'Bearer sk-local',
          'openai-beta': 'assistants=v2',
          'content-type': 'application/json',
        },
      });
      post.on('response', (res) => {
        res.pause();
        resolve(res);
      });
      post.on('error', reject);
      post.end(JSON.stringify({ assistant_id: assistant, stream: true }));
    });
    const run = await until(
      async () => (await client.beta.threads.runs.list(threadId)).data[0],
      (r) => r !== undefined && TERMINAL.includes(r.status),
      20_000,
    );
    expect(run?.status).toBe('completed');
    let received = '';
    paused.setEncoding('utf8');
    paused.on('data', (part: string) => {
      received += part;
    });
    paused.resume();
    await new Promise((resolve) => paused.on('end', resolve));
    const events = parseSse(received);
    expect(events.at(-2)).toMatchObject({ event: 'error' });
    expect(dataOf(events.at(-2) ?? { event: '', data: '{}' })).toMatchObject({ code: 'stream_overrun' });
    expect(events.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
    expect(received.length).toBeLessThan(piece.length * chunks.length);
    expect(streamDivergences('assistant', events)).toEqual([]);
    const [message] = (await client.beta.threads.messages.list(threadId, { run_id: run?.id })).data;
    expect(textOf(message).length).toBe(piece.length * chunks.length);
  }, 30_000);

  it('ends an open stream with an error event when the backend shuts down', async () => {
    const client = await start(() => ({ kind: 'hang' }));
    const threadId = await threadWith(client, 'go');
    const events: AssistantStreamEvent[] = [];
    for await (const event of await client.beta.threads.runs.create(threadId, streaming(assistant))) {
      events.push(event);
      if (event.event === 'thread.run.in_progress') void served.backend.stop();
    }
    expect(names(events)).toEqual(['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', 'error']);
    expect(events.at(-1)?.data).toMatchObject({ code: 'server_shutdown' });
    expect(invalid(events)).toEqual([]);
  });
});
