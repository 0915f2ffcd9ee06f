import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Stream } from 'openai/streaming';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LeanOpenAI } from '../../src/upstream/sdk/fast-read-client.ts';
import { LeanStream, leanStreaming } from '../../src/upstream/sdk/lean-stream.ts';
import { createUpstreamTransport } from '../../src/upstream/sdk/transport.ts';

/**
 * LeanStream's contract: for any answer, split into chunks anywhere, it yields and throws exactly
 * what the SDK's own `Stream.fromSSEResponse` yields and throws, in both of the SDK's modes (events
 * named `thread.*` and `{event, data}` for runs; data alone for responses), and aborts the call in
 * the same cases. Then the same through a real call: the SDK's client over HTTP, with and without
 * `leanStreaming`, reads the same events.
 */

const enc = (text: string) => new TextEncoder().encode(text);
const bytes = (...parts: Array<string | number[]>) =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? [...enc(part)] : part)));

/** Answers as the bytes an upstream sends: the ordinary, the odd and the broken. */
const scripts: Record<string, Uint8Array> = {
  'run events, LF': bytes(
    'event: thread.run.created\ndata: {"id":"run_1","status":"queued"}\n\n',
    'event: thread.message.delta\ndata: {"id":"msg_1","delta":{"content":[{"index":0,"type":"text","text":{"value":"héllo 👋 世界"}}]}}\n\n',
    'event: done\ndata: [DONE]\n\n',
  ),
  'run events, CRLF': bytes(
    'event: thread.run.created\r\ndata: {"a":1}\r\n\r\nevent: thread.run.completed\r\ndata: {"a":2}\r\n\r\n',
  ),
  'run events, CR only': bytes('event: thread.run.created\rdata: {"a":1}\r\revent: thread.x\rdata: {"b":2}\r\r'),
  'line ends mixed, a CR last': bytes('data: {"a":1}\r\n\ndata: {"b":2}\n\r\ndata: 3\r\r'),
  'comments, ids, retries, unknown fields': bytes(
    ': ping\n\nid: 7\nretry: 100\nfoo: bar\nevent: thread.run.step.created\ndata: {"x":true}\n\n:\n\n',
  ),
  'data over several lines, no space after the colon, a field with no colon': bytes(
    'data:{"a":\ndata:  [1,\ndata\ndata: 2]}\n\nevent:thread.run.created\ndata:{}\n\n',
  ),
  'responses events': bytes(
    'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1"}}\n\n',
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"delta":"ça ✓"}\n\n',
  ),
  'an error object (non-thread event)': bytes(
    'data: {"ok":1}\n\nevent: error\ndata: {"error":{"message":"boom","type":"server_error","code":"x"}}\n\ndata: {"after":1}\n\n',
  ),
  'an error data on an unnamed event': bytes('data: {"error":"plain"}\n\n'),
  'a thread event with an error field': bytes('event: thread.run.failed\ndata: {"error":{"message":"kept"}}\n\n'),
  'data that is not JSON': bytes(
    'event: thread.run.created\ndata: {"a":1}\n\nevent: thread.message.delta\ndata: {oops\n\n',
  ),
  'not JSON on an unnamed event': bytes('data: nope\n\n'),
  '[DONE] then more events': bytes(
    'data: {"a":1}\n\ndata: [DONE]\n\ndata: {"b":2}\n\nevent: thread.x\ndata: nonsense\n\n',
  ),
  '[DONE] with a suffix': bytes('data: [DONE]later\n\n'),
  'no blank line at the end': bytes(
    'event: thread.run.created\ndata: {"a":1}\n\nevent: thread.run.completed\ndata: {"a":2}\n',
  ),
  'nothing after the last field but a CR': bytes('data: {"a":1}\n\ndata: {"b":2}\r'),
  'an empty body': bytes(''),
  'blank lines and empty event names only': bytes('\n\n\r\n\nevent:\n\nevent: \n\n'),
  'an empty event name with data': bytes('event:\ndata: {"e":""}\n\n'),
  'byte order marks': bytes(
    [0xef, 0xbb, 0xbf],
    'data: {"a":1}\n',
    [0xef, 0xbb, 0xbf],
    'data: {"b":2}\n\n',
    [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
    'data: 1\n\n',
  ),
  'invalid UTF-8': bytes(
    'data: {"t":"',
    [0xc3],
    '"}\n\ndata: {"u":"',
    [0xff, 0xfe, 0xe2, 0x82],
    '"}\n\ndata: "',
    [0xf0, 0x9f, 0x98],
    '\n\n',
  ),
  'a multi-byte character cut at the end': bytes('data: {"a":1}\n\ndata: x', [0xe2, 0x82]),
  'JSON null and scalars': bytes(
    'data: null\n\ndata: 0\n\ndata: "s"\n\ndata: [1,{"error":1}]\n\ndata: {"error":0}\n\n',
  ),
};

interface Outcome {
  items: unknown[];
  error?: { name: string; message: string; status?: unknown; error?: unknown; code?: unknown; type?: unknown };
  aborted: boolean;
}

/** An answer whose body gives `chunks`, then ends, or fails with `failure`. */
function answerOf(chunks: unknown[], failure?: Error): Response {
  const body = new ReadableStream<unknown>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (failure) controller.error(failure);
      else controller.close();
    },
  });
  return new Response(body as ReadableStream<Uint8Array>, {
    headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' },
  });
}

async function read(
  reader: typeof Stream,
  chunks: unknown[],
  synthesize: boolean,
  answer: Response = answerOf(chunks),
): Promise<Outcome> {
  const controller = new AbortController();
  const stream = reader.fromSSEResponse(answer, controller, undefined, synthesize);
  const items: unknown[] = [];
  try {
    for await (const item of stream) items.push(item);
    return { items, aborted: controller.signal.aborted };
  } catch (thrown) {
    const error = thrown as Error & Record<string, unknown>;
    const { name, message, status, error: inner, code, type } = error;
    return {
      items,
      error: { name: error.constructor.name || name, message, status, error: inner, code, type },
      aborted: controller.signal.aborted,
    };
  }
}

/** Every way to cut `all` in two, and in three around each cut, and byte by byte. */
function splits(all: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[all], Array.from(all, (byte) => Uint8Array.of(byte))];
  for (let cut = 1; cut < all.length; cut++) {
    ways.push([all.subarray(0, cut), all.subarray(cut)]);
    if (cut + 1 < all.length) ways.push([all.subarray(0, cut), all.subarray(cut, cut + 1), all.subarray(cut + 1)]);
  }
  return ways;
}

/** A seeded generator: the same random answers on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [
  '\n',
  '\r',
  '\r\n',
  '\n\n',
  ':',
  ' ',
  'data',
  'data: ',
  'event: ',
  'thread.run.x',
  'error',
  '[DONE]',
  '{"a":1}',
  '{"error":{"message":"m"}}',
  '"é👋"',
  'id: 1',
  '{',
  '}',
].map((piece) => enc(piece));
const ODD_BYTES = [
  Uint8Array.of(0xef, 0xbb, 0xbf),
  Uint8Array.of(0xe2, 0x82),
  Uint8Array.of(0xff),
  Uint8Array.of(0xac),
];

describe('LeanStream against the SDK’s Stream', () => {
  beforeAll(() => {
    // The SDK prints data it cannot parse; both readers are fed some.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  for (const [name, all] of Object.entries(scripts)) {
    it(`${name}: the same outcome, however the answer is cut`, async () => {
      for (const synthesize of [true, false]) {
        const whole = await read(Stream, [all], synthesize);
        for (const chunks of splits(all)) {
          const sdk = await read(Stream, chunks, synthesize);
          expect(sdk).toEqual(whole);
          expect(await read(LeanStream, chunks, synthesize)).toEqual(sdk);
        }
      }
    });
  }

  // Every script whose blank lines are `\n\n`, `\r\r` or `\r\n\r\n` (what servers send): the
  // SDK hands such an event over where LeanStream does, so a body that fails midway leaves both
  // with the same events read and the same error.
  const UNIFORM = [
    'run events, LF',
    'run events, CRLF',
    'run events, CR only',
    'comments, ids, retries, unknown fields',
    'responses events',
    'an error object (non-thread event)',
    'data that is not JSON',
    '[DONE] then more events',
    'no blank line at the end',
    'byte order marks',
    'invalid UTF-8',
    'JSON null and scalars',
  ];
  for (const name of UNIFORM) {
    it(`${name}: a body that fails midway, cut anywhere: the same events read, the same error`, async () => {
      const all = scripts[name] as Uint8Array;
      for (const synthesize of [true, false]) {
        for (const chunks of splits(all)) {
          for (const kept of [chunks.length, Math.ceil(chunks.length / 2)]) {
            const given = chunks.slice(0, kept);
            const sdk = await read(Stream, given, synthesize, answerOf(given, new Error('socket reset')));
            const lean = await read(LeanStream, given, synthesize, answerOf(given, new Error('socket reset')));
            expect(lean).toEqual(sdk);
          }
        }
      }
    });
  }

  it('chunks that are not bytes, and a body read through its reader: as the SDK takes them', async () => {
    const text = 'data: {"a":1}\n\nevent: thread.x\ndata: 2\n\n';
    const codes = Array.from(new TextEncoder().encode(text));
    const odd: unknown[][] = [
      [text],
      [new TextEncoder().encode(text).buffer],
      [codes],
      [Uint16Array.from(codes)],
      [new DataView(new TextEncoder().encode(text).buffer)],
      [Buffer.from(text)],
    ];
    for (const chunks of odd) {
      for (const synthesize of [true, false]) {
        expect(await read(LeanStream, chunks, synthesize)).toEqual(await read(Stream, chunks, synthesize));
      }
    }
    // A web stream with a reader and no async iterator (another fetch's body).
    const readerOnly = (chunks: unknown[]) => {
      const stream = answerOf(chunks).body as ReadableStream<Uint8Array>;
      return { body: { getReader: () => stream.getReader() }, headers: new Headers() } as unknown as Response;
    };
    const chunks = [new TextEncoder().encode(text)];
    const sdk = await read(Stream, chunks, true, readerOnly(chunks));
    expect(sdk.items).toHaveLength(2);
    expect(await read(LeanStream, chunks, true, readerOnly(chunks))).toEqual(sdk);
  });

  it('random answers cut at random places: the same outcome (2,000 of them)', async () => {
    const next = random(20261204);
    for (let round = 0; round < 2_000; round++) {
      const parts: Uint8Array[] = [];
      const length = 1 + Math.floor(next() * 24);
      for (let index = 0; index < length; index++) {
        const pool = next() < 0.1 ? ODD_BYTES : PIECES;
        parts.push(pool[Math.floor(next() * pool.length)] as Uint8Array);
      }
      const all = Uint8Array.from(parts.flatMap((part) => [...part]));
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < all.length; ) {
        const size = 1 + Math.floor(next() * 6);
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
      const synthesize = next() < 0.5;
      const sdk = await read(Stream, chunks, synthesize);
      expect(await read(LeanStream, chunks, synthesize), JSON.stringify(new TextDecoder().decode(all))).toEqual(sdk);
    }
  });

  it('a body read twice, a reader that stops early, an answer with no body: as the SDK', async () => {
    for (const reader of [Stream, LeanStream] as Array<typeof Stream>) {
      const stream = reader.fromSSEResponse(answerOf([scripts['run events, LF'] as Uint8Array]), new AbortController());
      for await (const _ of stream) break;
      expect(stream.controller.signal.aborted).toBe(true);
      await expect(stream[Symbol.asyncIterator]().next()).rejects.toThrow('Cannot iterate over a consumed stream');

      const controller = new AbortController();
      const bodiless = reader.fromSSEResponse(new Response(null), controller);
      await expect(bodiless[Symbol.asyncIterator]().next()).rejects.toThrow(
        'Attempted to iterate over a response with no body',
      );
      expect(controller.signal.aborted).toBe(true);
    }
  });
});

describe('LeanStream in a real call', () => {
  let server: Server;
  let baseURL: string;
  const answer = [
    'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run","status":"queued"}\n\n',
    ': keep-alive\n\n',
    'event: thread.message.delta\r\ndata: {"id":"msg_1","delta":{"content":[{"index":0,"type":"text","text":{"value":"😀 ok"}}]}}\r\n\r\n',
    'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run","status":"completed"}\n\n',
    'event: done\ndata: [DONE]\n\n',
  ];

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // Cut inside characters and line ends, each piece its own write.
        const all = Buffer.from(answer.join(''));
        for (let at = 0; at < all.length; at += 7) {
          res.write(all.subarray(at, at + 7));
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('the SDK’s client with leanStreaming reads what it reads without, over the gateway’s transport and over fetch', async () => {
    const transport = createUpstreamTransport();
    for (const fetch of [transport.fetch, undefined]) {
      const client = new LeanOpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0, ...(fetch ? { fetch } : {}) });
      const events = async (options: object) => {
        const { data, response } = await client.beta.threads.runs
          .create('thread_1', { assistant_id: 'asst_1', stream: true }, options)
          .withResponse();
        const seen: unknown[] = [];
        for await (const event of data) seen.push(event);
        return { seen, type: response.headers.get('content-type'), lean: data instanceof LeanStream };
      };
      const sdk = await events({});
      const lean = await events(leanStreaming({}));
      expect(sdk.lean).toBe(false);
      expect(lean.lean).toBe(true);
      expect(lean.seen).toEqual(sdk.seen);
      expect(lean.seen).toHaveLength(3);
      expect(lean.seen[1]).toMatchObject({ event: 'thread.message.delta' });
    }
    await transport.close();
  });
});
