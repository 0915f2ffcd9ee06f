import { Stream } from 'openai/streaming';
import { LeanStream } from '../src/upstream/sdk/lean-stream.ts';

// `npx tsx bench/sse-read.ts`: CPU microseconds per event that reading a run's event stream costs,
// the SDK's `Stream.fromSSEResponse` against `LeanStream` (src/upstream/sdk/lean-stream.ts), on
// the same answers in this process: a run's text deltas as a Threads server writes them (one event
// per chunk, as they come while the model types) and the same events in 64 KB chunks (a stream read
// after it was written). Rounds rotate through the variants; the median round is shown, every round
// after.

const EVENTS = 20_000;
const ROUNDS = 7;

function delta(index: number): string {
  const data = {
    id: 'msg_abc123',
    object: 'thread.message.delta',
    delta: { content: [{ index: 0, type: 'text', text: { value: `tok${index} ` } }] },
  };
  return `event: thread.message.delta\ndata: ${JSON.stringify(data)}\n\n`;
}

const encoder = new TextEncoder();
const perEvent = Array.from({ length: EVENTS }, (_, index) => encoder.encode(delta(index)));
const whole = Buffer.concat(perEvent);
const inBlocks: Uint8Array[] = [];
for (let at = 0; at < whole.length; at += 64 * 1024) inBlocks.push(whole.subarray(at, at + 64 * 1024));

/** An answer whose body hands over `chunks` as the gateway's transport does: an async iterable of bytes. */
function answer(chunks: Uint8Array[]): Response {
  const body = {
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) yield chunk;
    },
  };
  return { body, headers: new Headers({ 'content-type': 'text/event-stream' }) } as unknown as Response;
}

async function cpuPerEvent(reader: typeof Stream, chunks: Uint8Array[]): Promise<number> {
  const start = process.cpuUsage();
  let events = 0;
  for await (const _ of reader.fromSSEResponse(answer(chunks), new AbortController(), undefined, true)) events++;
  const used = process.cpuUsage(start);
  if (events !== EVENTS) throw new Error(`read ${events} events, not ${EVENTS}`);
  return (used.user + used.system) / events;
}

const variants = [
  { name: 'one event per chunk, SDK Stream', reader: Stream, chunks: perEvent },
  { name: 'one event per chunk, LeanStream', reader: LeanStream, chunks: perEvent },
  { name: '64 KB chunks, SDK Stream', reader: Stream, chunks: inBlocks },
  { name: '64 KB chunks, LeanStream', reader: LeanStream, chunks: inBlocks },
] as Array<{ name: string; reader: typeof Stream; chunks: Uint8Array[] }>;

const rounds = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
for (const variant of variants) await cpuPerEvent(variant.reader, variant.chunks);
for (let round = 0; round < ROUNDS; round++) {
  for (let index = 0; index < variants.length; index++) {
    const variant = variants[(index + round) % variants.length] as (typeof variants)[number];
    rounds.get(variant.name)?.push(await cpuPerEvent(variant.reader, variant.chunks));
  }
}
for (const [name, values] of rounds) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  console.log(
    `${name.padEnd(34)} ${median.toFixed(2).padStart(6)} µs/event   (${values.map((v) => v.toFixed(2)).join(' ')})`,
  );
}
