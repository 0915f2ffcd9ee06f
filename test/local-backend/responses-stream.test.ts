import { BadRequestError } from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import type { StreamLimits } from '../../src/local-backend/streams/event-log.ts';
import { type ChatReply, chunk, startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { checkStreamEvent, describeDivergence } from '../helpers/openapi.ts';
import { postgresReachable } from '../helpers/postgres.ts';
import { type ServedBackend, STORE_KINDS, serveRunBackend, until } from '../helpers/run-backend.ts';
import { reportSkip } from '../helpers/skips.ts';
import { dataOf, parseSse, streamDivergences } from '../helpers/sse.ts';

/**
 * Streamed responses (`stream: true` on create; `GET /v1/responses/{id}?stream=true&starting_after=N`
 * for background ones), read with the real openai SDK (or raw HTTP where the SDK hides what is
 * checked) from a local backend on a port.
 */

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('streamed responses on postgres', 'no PostgreSQL reachable');

const FINAL = ['completed', 'failed', 'cancelled', 'incomplete'];
const WORDS = ['héllo', '🌍', '世界', '👩‍👩‍👧‍👦', 'ｶﾀｶﾅ', '𝄞music', 'naïve', '한국어', 'emoji🎉end', '¿qué?', 'plain'];
const LONG_TEXT = Array.from({ length: 2_500 }, (_, index) => WORDS[index % WORDS.length]).join(' ');

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: false,
};

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** The events' types with each run of deltas folded into one, to compare orders. */
function order(events: readonly ResponseStreamEvent[]): string[] {
  return events
    .map((event) => event.type)
    .filter((type, index, all) => !type.endsWith('.delta') || all[index - 1] !== type);
}

function numbers(events: readonly ResponseStreamEvent[]): number[] {
  return events.map((event) => event.sequence_number);
}

function deltaText(events: readonly ResponseStreamEvent[]): string {
  return events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('');
}

function invalid(events: readonly ResponseStreamEvent[]): string[] {
  return events.flatMap((event) => {
    const divergence = checkStreamEvent('response', event.type, event);
    return divergence ? [describeDivergence(divergence)] : [];
  });
}

function finalResponse(events: readonly ResponseStreamEvent[]): Response | undefined {
  const last = events.at(-1);
  return last && 'response' in last ? last.response : undefined;
}

/** Reads a stream until `stop` says so, then leaves it (the SDK aborts the request). */
async function readUntil(
  stream: AsyncIterable<ResponseStreamEvent>,
  stop: (event: ResponseStreamEvent, read: ResponseStreamEvent[]) => boolean,
): Promise<ResponseStreamEvent[]> {
  const read: ResponseStreamEvent[] = [];
  for await (const event of stream) {
    read.push(event);
    if (stop(event, read)) break;
  }
  return read;
}

describe.each(STORE_KINDS)('streamed responses over the $name store', (kind) => {
  const suite = kind.name !== 'postgres' || hasPostgres ? describe : describe.skip;
  suite('', () => {
    let data: Awaited<ReturnType<typeof kind.create>>;
    let served: ServedBackend;

    beforeEach(async () => {
      data = await kind.create();
      served = await serveRunBackend(await data.open());
    });
    afterEach(async () => {
      await served.close();
      await data.dispose();
    });

    it('streams a long multi-byte answer in a conversation: events in order and numbered from 0, each valid, the deltas the stored text byte for byte', async () => {
      const { client } = served;
      const conversation = await client.conversations.create({});
      const events = await collect(
        await client.responses.create({ model: 'echo', conversation: conversation.id, input: LONG_TEXT, stream: true }),
      );
      expect(order(events)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(numbers(events)).toEqual(events.map((_, index) => index));
      expect(invalid(events)).toEqual([]);
      const final = finalResponse(events);
      const retrieved = await client.responses.retrieve(final?.id ?? '');
      // The SDK adds `output_text` to what it retrieves; the event carries the response as the wire has it.
      expect({ ...final, output_text: retrieved.output_text }).toEqual(retrieved);
      expect(Buffer.from(deltaText(events)).equals(Buffer.from(retrieved.output_text))).toBe(true);
      expect(deltaText(events)).toBe(LONG_TEXT);
      // The item the stream announced is the response's, and the conversation's.
      const added = events.find((event) => event.type === 'response.output_item.added');
      const [item] = (await client.conversations.items.list(conversation.id, { order: 'desc', limit: 1 })).data;
      expect(added?.type === 'response.output_item.added' && added.item.id).toBe(final?.output[0]?.id);
      expect(item?.id).toBe(final?.output[0]?.id);
    });

    it('resumes a background response’s stream after starting_after with exactly the events that remain', async () => {
      const { client } = served;
      const created = await client.responses.create({
        model: 'echo',
        input: LONG_TEXT,
        stream: true,
        background: true,
      });
      const first = await readUntil(created, (_event, read) => read.length === 12);
      expect(order(first).slice(0, 3)).toEqual(['response.created', 'response.queued', 'response.in_progress']);
      const id = first[0]?.type === 'response.created' ? first[0].response.id : '';
      const last = first.at(-1)?.sequence_number ?? -1;
      const rest = await collect(await client.responses.retrieve(id, { stream: true, starting_after: last }));
      const whole = [...first, ...rest];
      expect(numbers(whole)).toEqual(whole.map((_, index) => index));
      expect(finalResponse(whole)?.status).toBe('completed');
      expect(deltaText(whole)).toBe(LONG_TEXT);
      // Replayed from the start, the stream is the same events again.
      expect(await collect(await client.responses.retrieve(id, { stream: true }))).toEqual(whole);
      expect(invalid(whole)).toEqual([]);
    });
  });
});

describe('streamed responses over a Chat Completions server (a tool-calling model)', () => {
  let served: ServedBackend;
  let close: () => Promise<void>;
  afterEach(async () => {
    await served.close();
    await close();
  });

  async function start(reply: (body: Record<string, unknown>, index: number) => ChatReply) {
    const model = await startChatCompletionsServer(reply);
    close = model.close;
    served = await serveRunBackend(new MemoryStore(), { model: { url: model.url } });
    return served.client;
  }

  const paced = (count: number): ChatReply => ({
    kind: 'stream',
    intervalMs: 20,
    chunks: Array.from({ length: count }, (_, index) => chunk({ content: `word${index} ✨ ` })),
  });

  it('streams text and function calls: arguments delta and done, each item under the id the response keeps', async () => {
    const client = await start(() => ({
      kind: 'stream',
      chunks: [
        chunk({ role: 'assistant', content: 'Checking 🌦️ ' }),
        chunk({
          tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }),
        chunk({
          tool_calls: [
            { index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        }),
        chunk({}, 'tool_calls'),
      ],
    }));
    const conversation = await client.conversations.create({});
    const events = await collect(
      await client.responses.create({
        model: 'test-model',
        conversation: conversation.id,
        input: 'weather?',
        tools: [weather],
        stream: true,
      }),
    );
    expect(invalid(events)).toEqual([]);
    const final = finalResponse(events);
    expect(final?.status).toBe('completed');
    const done = events.filter((event) => event.type === 'response.function_call_arguments.done');
    expect(done.map((event) => [event.item_id, event.output_index, event.arguments])).toEqual([
      [final?.output[1]?.id, 1, '{"city":"Oslo"}'],
      [final?.output[2]?.id, 2, '{}'],
    ]);
    const items = events.flatMap((event) => (event.type === 'response.output_item.done' ? [event.item] : []));
    expect(items).toHaveLength(3);
    expect(final?.output).toEqual(expect.arrayContaining(items));
    const stored = (await client.conversations.items.list(conversation.id, { order: 'asc' })).data.slice(1);
    expect(stored.map((item) => item.id)).toEqual(final?.output.map((item) => item.id));
    expect(deltaText(events)).toBe('Checking 🌦️ ');
  });

  it('follows a background response live after a resume, to its end', async () => {
    const client = await start(() => paced(40));
    const created = await client.responses.create({ model: 'test-model', input: 'go', stream: true, background: true });
    const first = await readUntil(created, (event) => event.type === 'response.output_text.delta');
    const id = first[0]?.type === 'response.created' ? first[0].response.id : '';
    expect((await client.responses.retrieve(id)).status).toBe('in_progress');
    const rest = await collect(
      await client.responses.retrieve(id, { stream: true, starting_after: first.at(-1)?.sequence_number ?? -1 }),
    );
    const whole = [...first, ...rest];
    expect(numbers(whole)).toEqual(whole.map((_, index) => index));
    // Resumed while the model was still writing: the rest came live.
    expect(rest.filter((event) => event.type === 'response.output_text.delta').length).toBeGreaterThan(0);
    expect(deltaText(whole)).toBe(Array.from({ length: 40 }, (_, index) => `word${index} ✨ `).join(''));
    expect(invalid(whole)).toEqual([]);
  });

  it('keeps producing a response whose client went away mid-stream', async () => {
    const client = await start(() => paced(20));
    const read = await readUntil(
      await client.responses.create({ model: 'test-model', input: 'go', stream: true }),
      (event) => event.type === 'response.output_text.delta',
    );
    const id = read[0]?.type === 'response.created' ? read[0].response.id : '';
    const final = await until(
      () => client.responses.retrieve(id),
      (response) => FINAL.includes(response.status ?? ''),
    );
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe(Array.from({ length: 20 }, (_, index) => `word${index} ✨ `).join(''));
  });

  it('ends the stream of a response cancelled while streaming with an error event (the description has no cancelled event)', async () => {
    const client = await start(() => paced(200));
    const events: ResponseStreamEvent[] = [];
    const stream = await client.responses.create({ model: 'test-model', input: 'go', stream: true, background: true });
    for await (const event of stream) {
      events.push(event);
      if (event.type === 'response.output_text.delta' && event.sequence_number === 5) {
        const id = events[0]?.type === 'response.created' ? events[0].response.id : '';
        expect((await client.responses.cancel(id)).status).toBe('cancelled');
      }
    }
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'response_cancelled' });
    expect(numbers(events)).toEqual(events.map((_, index) => index));
    expect(invalid(events)).toEqual([]);
  });
});

describe('streamed responses: the HTTP answer, refusals and bounds', () => {
  let served: ServedBackend;
  afterEach(() => served.close());

  async function serve(streams: Partial<StreamLimits> = {}) {
    served = await serveRunBackend(new MemoryStore(), {}, { streams });
    return served.client;
  }

  function get(path: string): Promise<globalThis.Response> {
    return fetch(`${served.url}${path}`, { headers: { authorization: 'Bearer sk-local' } });
  }

  it('answers 200 text/event-stream, uncached and unbuffered, each event named by its type and valid', async () => {
    await serve();
    const response = await fetch(`${served.url}/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-local', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', input: 'Hi 👋 there', stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const events = parseSse(await response.text());
    expect(events.map((event) => (dataOf(event) as { type: string }).type)).toEqual(events.map((event) => event.event));
    expect(events.at(-1)?.event).toBe('response.completed');
    expect(streamDivergences('response', events)).toEqual([]);
  });

  it('refuses a starting_after that is no integer, and a stream of a response not in the background, naming the parameter', async () => {
    const client = await serve();
    const background = await client.responses.create({ model: 'echo', input: 'x', background: true });
    for (const query of ['starting_after=abc', 'starting_after=1.5', 'stream=maybe']) {
      const response = await get(`/responses/${background.id}?stream=true&${query}`);
      expect(response.status, query).toBe(400);
      const { error } = (await response.json()) as { error: { type: string; param: string } };
      expect(error, query).toMatchObject({ type: 'invalid_request_error', param: query.split('=')[0] });
    }
    const ok = await get(`/responses/${background.id}?stream=true&starting_after=0&include_obfuscation=false`);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    const foreground = await client.responses.create({ model: 'echo', input: 'x' });
    const refused = await client.responses.retrieve(foreground.id, { stream: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).param).toBe('stream');
  });

  it('keeps at most maxEvents of a background response (a resume from before them is told), and drops them retainMs after its end', async () => {
    const client = await serve({ maxEvents: 10, retainMs: 300 });
    const text = WORDS.join(' ').repeat(3);
    const created = await client.responses.create({ model: 'echo', input: text, background: true });
    const final = await until(
      () => client.responses.retrieve(created.id),
      (response) => FINAL.includes(response.status ?? ''),
    );
    expect(final.status).toBe('completed');
    const all = await collect(await client.responses.retrieve(created.id, { stream: true }));
    expect(all).toEqual([expect.objectContaining({ type: 'error', code: 'stream_overrun', sequence_number: 0 })]);
    // Echo answers word by word: created, queued, in_progress, two openings, a delta a word, four closings.
    const total = (text.match(/\s*\S+\s*/g) ?? []).length + 9;
    const tail = await collect(
      await client.responses.retrieve(created.id, { stream: true, starting_after: total - 4 }),
    );
    expect(tail.map((event) => [event.type, event.sequence_number])).toEqual([
      ['response.content_part.done', total - 3],
      ['response.output_item.done', total - 2],
      ['response.completed', total - 1],
    ]);
    expect(await collect(await client.responses.retrieve(created.id, { stream: true, starting_after: total }))).toEqual(
      [],
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    const gone = await client.responses.retrieve(created.id, { stream: true }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(BadRequestError);
    expect((gone as BadRequestError).param).toBe('stream');
  });

  it('holds the ended responses’ kept events to retainedMaxBytes together: the oldest go first', async () => {
    const client = await serve({ retainedMaxBytes: 60_000 });
    const ids: string[] = [];
    for (let index = 0; index < 8; index++) {
      // Each response's events carry its 8 KB of instructions a few times over: some 25 KB a log.
      const created = await client.responses.create({
        model: 'echo',
        input: `answer ${index}`,
        instructions: 'i'.repeat(8_000),
        background: true,
      });
      await until(
        () => client.responses.retrieve(created.id),
        (response) => FINAL.includes(response.status ?? ''),
      );
      ids.push(created.id);
    }
    const replayable: boolean[] = [];
    for (const id of ids) {
      const replay = await client.responses.retrieve(id, { stream: true }).then(
        async (stream) => (await collect(stream)).length > 0,
        () => false,
      );
      replayable.push(replay);
    }
    // The newest are kept, the oldest are not (a resume of those is refused as for any other).
    expect(replayable.at(-1)).toBe(true);
    expect(replayable[0]).toBe(false);
    expect(replayable.filter(Boolean).length).toBeLessThan(4);
  });
});
