import { afterEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { CreateRunDocument, GetRunDocument, SubmitToolOutputsDocument } from '../helpers/documents.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { emptyRunsState, runsHandler } from '../helpers/runs-upstream.ts';
import { closeAll, seedThread, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * Tool outputs submitted by an instance that has not yet learnt whether the Threads server streams
 * (it started after the run was created): asked to stream, a server that refuses `stream` (400 naming
 * it: nothing done) gets the outputs plainly, once.
 */
let upstream: TestUpstream | undefined;
const gateways: Gateway[] = [];
afterEach(() => closeAll(...gateways.splice(0), upstream));

it('a server that refuses stream on submit_tool_outputs gets the outputs plainly, applied once', async () => {
  const state = emptyRunsState();
  const runs = runsHandler(() => upstream as TestUpstream, state);
  upstream = await startTestUpstream((request, index) => {
    const streamed = request.method === 'POST' && JSON.parse(request.body || '{}').stream === true;
    if (streamed && request.path.endsWith('/submit_tool_outputs')) {
      return {
        status: 400,
        body: { error: { message: 'no streaming', type: 'invalid_request_error', param: 'stream', code: null } },
      };
    }
    return runs(request, index);
  });
  state.assistants.set('asst_t', {
    id: 'asst_t',
    object: 'assistant',
    created_at: 1_700_000_000,
    model: 'echo',
    instructions: null,
    tools: [],
    metadata: {},
  });
  const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, UPSTREAM_API: 'threads' };
  const first = testGateway(env);
  gateways.push(first);
  const { id: threadId } = await seedThread(upstream, 0);
  const created = await execute(first, CreateRunDocument, {
    threadId,
    input: { assistantId: 'asst_t', metadata: { script: 'tools' } },
  });
  const runId = created.data?.createRun.runId ?? '';
  let waiting = (await execute(first, GetRunDocument, { threadId, id: runId })).data?.run;
  for (let attempt = 0; waiting?.status !== 'REQUIRES_ACTION' && attempt < 20; attempt++) {
    waiting = (await execute(first, GetRunDocument, { threadId, id: runId })).data?.run;
  }
  expect(waiting?.status).toBe('REQUIRES_ACTION');

  // Another instance, new to this server, submits the outputs.
  const second = testGateway(env);
  gateways.push(second);
  const submitted = await execute(second, SubmitToolOutputsDocument, {
    threadId,
    runId,
    toolOutputs: (waiting?.requiredToolCalls ?? []).map((call) => ({ toolCallId: call.id, output: 'ok' })),
  });
  expect(submitted.errors).toBeUndefined();
  const posts = (upstream.seen ?? [])
    .filter((seen) => seen.method === 'POST' && seen.path.endsWith('/submit_tool_outputs'))
    .map((seen) => JSON.parse(seen.body).stream ?? false);
  // Asked to stream, refused with nothing done, then sent plainly: the outputs reached the run once.
  expect(posts).toEqual([true, false]);
  expect(state.runs.get(runId)?.status).not.toBe('requires_action');
});
