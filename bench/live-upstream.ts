import { createLocalBackend } from '../src/local-backend/backend.ts';
import { serveLocalBackend } from '../src/local-backend/serve.ts';
import { chunk, startChatCompletionsServer } from '../test/helpers/chat-completions-server.ts';

/**
 * The upstream of `bench/live.ts`'s first-delta rows, in its own process: the local backend served
 * over HTTP as any Threads server, its runs answered by a model server that speaks streamed Chat
 * Completions like a hosted model: the role at once, then a token every LIVE_TOKEN_MS (40 ms), so the
 * first text arrives one token interval after the run starts; LIVE_TOKENS tokens in all (15). Both the gateway and the direct reader
 * read runs from here.
 */
const tokenMs = Number(process.env.LIVE_TOKEN_MS ?? 40);
const sentence = 'The quick brown fox jumps over the lazy dog again and again until the end'.split(' ');
// LIVE_TOKENS: tokens per answer (the sentence's 15 words, repeated as needed).
const words = Array.from(
  { length: Number(process.env.LIVE_TOKENS ?? sentence.length) },
  (_, i) => sentence[i % sentence.length],
);
// LIVE_MODEL_URL: a model server of the caller's (the fan-out row times its tokens from its own clock).
const modelUrl =
  process.env.LIVE_MODEL_URL ??
  (
    await startChatCompletionsServer(() => ({
      kind: 'stream',
      intervalMs: tokenMs,
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        ...words.map((word) => chunk({ content: `${word} ` })),
        chunk({}, 'stop'),
      ],
    }))
  ).url;
const backend = createLocalBackend({ runs: { model: { url: modelUrl } } });
const served = await serveLocalBackend(backend, { host: '127.0.0.1', port: 0 });
process.send?.({ url: served.url });
