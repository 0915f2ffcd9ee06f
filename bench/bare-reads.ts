import { normaliseThread } from '../dist/upstream/answer-checks.js';
import { UpstreamCalls } from '../dist/upstream/calls/call-session.js';
import { createUpstreamTransport } from '../dist/upstream/sdk/transport.js';
import type { Thread, UpstreamApi } from '../dist/upstream/upstream-api.js';
import { serveGatewayForBench } from './serve-gateway.ts';

// The bound on issue 12's option 2, measured in the same run as the gateway: our gateway with thread
// reads sent without the openai SDK, each one a bare GET on the gateway's own transport. Everything
// else is the gateway's: the per-call machinery (retries, deadline, budget, coalescing, metrics) and
// the checks on the answer. What it serves above the gateway is the most a lean read path could buy;
// what it serves below the ceiling, no client can close. Not a product path: it only reads threads.
const transport = createUpstreamTransport();
const base = process.env.OPENAI_BASE_URL ?? '';
const headers = {
  authorization: `Bearer ${process.env.OPENAI_API_KEY}`,
  'openai-beta': 'assistants=v2',
  accept: 'application/json',
};
const calls = new UpstreamCalls({ timeoutMs: 10_000, maxRetries: 2, passThrough: false, apiName: 'Threads API' });
const onlyReads = async (): Promise<never> => {
  throw new Error('bare reads only read threads');
};
const bareReads: UpstreamApi = {
  kind: 'threads',
  retrieveThread: (session, id) =>
    calls.read<Thread | null>(session, `threads/${id}`, {
      method: 'GET',
      route: '/threads/{id}',
      resource: 'thread',
      safety: 'idempotent',
      send: async (options) => {
        const answer = await transport.fetch(`${base}/threads/${id}`, { headers }, Number(options.timeout));
        if (answer.status === 404) return null;
        if (!answer.ok) throw new Error(`upstream answered ${answer.status}`);
        return normaliseThread(await answer.json(), id);
      },
    }),
  createThread: onlyReads,
  updateThread: onlyReads,
  deleteThread: onlyReads,
  createRun: onlyReads,
  retrieveRun: onlyReads,
  listRuns: onlyReads,
  submitToolOutputs: onlyReads,
  cancelRun: onlyReads,
  retrieveAssistant: onlyReads,
  listAssistants: onlyReads,
  createAssistant: onlyReads,
  updateAssistant: onlyReads,
  deleteAssistant: onlyReads,
  listMessages: onlyReads,
  retrieveMessage: onlyReads,
  createMessage: onlyReads,
  updateMessage: onlyReads,
  deleteMessage: onlyReads,
};
serveGatewayForBench({ upstreamApi: bareReads });
