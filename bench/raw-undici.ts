import { Agent, request } from 'undici';
import type { Thread, UpstreamApi } from '../dist/upstream/upstream-api.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// An experiment, not a product path (`npx tsx bench/cpu.ts bench/raw-undici.ts`): our gateway with thread reads
// sent by a bare undici request instead of the openai SDK, to measure what the SDK itself costs.
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const base = process.env.OPENAI_BASE_URL ?? '';
const headers = { authorization: `Bearer ${process.env.OPENAI_API_KEY}`, 'openai-beta': 'assistants=v2' };
const unsupported = async (): Promise<never> => {
  throw new Error('the raw-undici experiment only reads');
};
const rawReads: UpstreamApi = {
  kind: 'threads',
  retrieveThread: async (_session, id) => {
    const answer = await request(`${base}/threads/${encodeURIComponent(id)}`, { headers, dispatcher: agent });
    const body = (await answer.body.json()) as Thread;
    return answer.statusCode === 404 ? null : body;
  },
  createThread: unsupported,
  updateThread: unsupported,
  deleteThread: unsupported,
  listMessages: unsupported,
  retrieveMessage: unsupported,
  createMessage: unsupported,
  updateMessage: unsupported,
  deleteMessage: unsupported,
};
serveGatewayForBench({ upstreamApi: rawReads });
