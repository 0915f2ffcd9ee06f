import { afterEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { CancelRunDocument } from '../helpers/documents.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { wireRun } from '../helpers/runs-upstream.ts';
import { closeAll, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * A cancel of a run that is already CANCELLING (a client retrying its cancel, two tabs) succeeds
 * with the run as it is: one read, nothing sent. A Threads server would refuse the second cancel
 * with a 400 that names no parameter.
 */
let upstream: TestUpstream | undefined;
let gateway: Gateway | undefined;
afterEach(() => closeAll(gateway, upstream));

it('answers a CANCELLING run as it is, with one read and no second cancel upstream', async () => {
  const run = wireRun({
    id: 'run_stopping',
    thread_id: 'thread_stopping',
    assistant_id: 'asst_1',
    status: 'cancelling',
    model: 'echo',
    instructions: '',
    tools: [],
    metadata: {},
    created_at: 1_700_000_000,
    started_at: 1_700_000_001,
  });
  upstream = await startTestUpstream((request) => {
    if (request.path.endsWith('/runs/run_stopping/cancel')) {
      return {
        status: 400,
        body: {
          error: { message: "Cannot cancel run with status 'cancelling'.", type: 'invalid_request_error', param: null },
        },
      };
    }
    if (request.path.endsWith('/runs/run_stopping')) return { status: 200, body: run };
    return { forward: true };
  });
  gateway = testGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, UPSTREAM_API: 'threads' });
  const answer = await execute(gateway, CancelRunDocument, { threadId: 'thread_stopping', runId: 'run_stopping' });
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.cancelRun.status).toBe('CANCELLING');
  expect(upstream.count('GET', /\/runs\/run_stopping$/)).toBe(1);
  expect(upstream.count('POST', /\/cancel$/)).toBe(0);
});
