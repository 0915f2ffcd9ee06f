import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CancelRunDocument,
  CreateRunDocument,
  GetRunDocument,
  RunNodeDocument,
  SubmitToolOutputsDocument,
  ThreadRunMessagesDocument,
  ThreadRunsDocument,
} from '../helpers/documents.ts';
import { codes, execute } from '../helpers/gateway.ts';
import { emptyRunsState, type RunsState, runsHandler } from '../helpers/runs-upstream.ts';
import { closeAll, seedThread, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

let upstream: TestUpstream | undefined;
let gateway: Gateway | undefined;
let state: RunsState;

afterEach(() => closeAll(gateway, upstream));

/** A gateway over a counting test upstream that speaks the runs wire format, an assistant and a thread. */
async function start(env: Record<string, string> = {}): Promise<{ threadId: string; assistantId: string }> {
  state = emptyRunsState();
  const pair = await startServerKeyGateway(
    { UPSTREAM_API: 'threads', ...env },
    runsHandler(() => upstream as TestUpstream, state),
  );
  upstream = pair.upstream;
  gateway = pair.gateway;
  const assistantId = 'asst_test';
  state.assistants.set(assistantId, {
    id: assistantId,
    object: 'assistant',
    created_at: 1_700_000_000,
    model: 'echo',
    instructions: 'be brief',
    tools: [],
    metadata: {},
  });
  const thread = await seedThread(upstream, 0);
  return { threadId: thread.id, assistantId };
}

function calls(): number {
  return upstream?.seen.length ?? 0;
}

function run(threadId: string, id: string) {
  return execute(gateway as Gateway, GetRunDocument, { threadId, id });
}

describe('runs over a Threads upstream', () => {
  it('creates a run, reads it back as it moves on, and serves the message it wrote', async () => {
    const { threadId, assistantId } = await start();
    const created = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: { assistantId, metadata: { team: 'a' } },
    });
    expect(created.errors).toBeUndefined();
    const first = created.data?.createRun;
    expect(first).toMatchObject({
      threadId,
      assistantId,
      status: 'QUEUED',
      model: 'echo',
      instructions: 'be brief',
      tools: [],
      metadata: { team: 'a' },
      requiredToolCalls: [],
      usage: null,
      lastError: null,
      completedAt: null,
    });
    expect(first?.runId).toMatch(/^run_/);
    expect(first?.id).not.toBe(first?.runId);
    expect(upstream?.count('POST', /\/threads\/[^/]+\/runs$/)).toBe(1);
    const posted = JSON.parse(upstream?.seen.find((seen) => seen.method === 'POST')?.body ?? '{}');
    // Asked to stream (docs/live.md); this server answers plainly, and is then asked plainly.
    expect(posted).toEqual({ assistant_id: assistantId, metadata: { team: 'a' }, stream: true });

    // The run's global id and its upstream id both name it.
    const moving = await run(threadId, first?.id ?? '');
    expect(moving.data?.run).toMatchObject({ status: 'IN_PROGRESS', messages: [] });
    expect(moving.data?.run?.startedAt).toEqual(expect.any(Number));
    const done = await run(threadId, first?.runId ?? '');
    expect(done.errors).toBeUndefined();
    expect(done.data?.run).toMatchObject({
      id: first?.id,
      status: 'COMPLETED',
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      messages: [{ role: 'ASSISTANT', text: 'echo: be brief', runId: first?.runId }],
    });
    expect(done.data?.run?.completedAt).toEqual(expect.any(Number));
    // Each read: one run GET and one message list filtered by the run.
    expect(upstream?.count('GET', /\/runs\/run_/)).toBe(2);
    expect(upstream?.count('GET', new RegExp(`/messages\\?.*run_id=${first?.runId}`))).toBe(2);
  });

  it('requires action, takes the tool outputs, and completes', async () => {
    const { threadId, assistantId } = await start();
    const created = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: { assistantId, metadata: { script: 'tools' } },
    });
    const runId = created.data?.createRun.runId ?? '';
    await run(threadId, runId);
    const waiting = (await run(threadId, runId)).data?.run;
    expect(waiting?.status).toBe('REQUIRES_ACTION');
    expect(waiting?.requiredToolCalls.map((call) => call.name)).toEqual(['get_weather', 'get_time']);
    expect(waiting?.requiredToolCalls[0]?.arguments).toBe('{"city":"Oslo"}');
    const [weather, time] = waiting?.requiredToolCalls ?? [];

    // Outputs that do not match the required calls exactly: refused after the one read of the run.
    for (const toolOutputs of [
      [{ toolCallId: weather?.id ?? '', output: 'sunny' }],
      [
        { toolCallId: weather?.id ?? '', output: 'sunny' },
        { toolCallId: 'call_other', output: 'noon' },
      ],
      [
        { toolCallId: weather?.id ?? '', output: 'sunny' },
        { toolCallId: weather?.id ?? '', output: 'sunny' },
      ],
    ]) {
      const before = calls();
      const wrong = await execute(gateway as Gateway, SubmitToolOutputsDocument, { threadId, runId, toolOutputs });
      expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
      expect(calls() - before).toBe(1);
      expect(upstream?.seen.at(-1)?.method).toBe('GET');
    }
    expect(upstream?.count('POST', /submit_tool_outputs/)).toBe(0);

    const submitted = await execute(gateway as Gateway, SubmitToolOutputsDocument, {
      threadId,
      runId,
      toolOutputs: [
        { toolCallId: time?.id ?? '', output: 'noon' },
        { toolCallId: weather?.id ?? '', output: 'sunny' },
      ],
    });
    expect(submitted.errors).toBeUndefined();
    expect(submitted.data?.submitToolOutputs).toMatchObject({ status: 'IN_PROGRESS', requiredToolCalls: [] });
    expect(upstream?.count('POST', /submit_tool_outputs/)).toBe(1);
    const body = JSON.parse(upstream?.seen.find((seen) => seen.path.includes('submit_tool_outputs'))?.body ?? '{}');
    expect(body.tool_outputs).toEqual([
      { tool_call_id: time?.id, output: 'noon' },
      { tool_call_id: weather?.id, output: 'sunny' },
    ]);
    const done = (await run(threadId, runId)).data?.run;
    expect(done?.status).toBe('COMPLETED');
    expect(done?.messages.map((message) => message.text)).toEqual(['tools said: noon, sunny']);

    // A run that no longer waits takes no outputs: one read, nothing sent.
    const before = calls();
    const late = await execute(gateway as Gateway, SubmitToolOutputsDocument, {
      threadId,
      runId,
      toolOutputs: [{ toolCallId: weather?.id ?? '', output: 'sunny' }],
    });
    expect(codes(late)).toEqual(['BAD_USER_INPUT']);
    expect(late.errors?.[0]?.message).toContain('COMPLETED');
    expect(calls() - before).toBe(1);
  });

  it('cancels a run; a cancelled run cannot be cancelled again (one read, nothing sent)', async () => {
    const { threadId, assistantId } = await start();
    const created = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: { assistantId, metadata: { script: 'slow' } },
    });
    const runId = created.data?.createRun.id ?? '';
    const cancelling = await execute(gateway as Gateway, CancelRunDocument, { threadId, runId });
    expect(cancelling.errors).toBeUndefined();
    expect(cancelling.data?.cancelRun.status).toBe('CANCELLING');
    expect(upstream?.count('POST', /\/cancel$/)).toBe(1);
    const cancelled = (await run(threadId, runId)).data?.run;
    expect(cancelled?.status).toBe('CANCELLED');
    expect(cancelled?.cancelledAt).toEqual(expect.any(Number));

    const before = calls();
    const again = await execute(gateway as Gateway, CancelRunDocument, { threadId, runId });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(calls() - before).toBe(1);
    expect(upstream?.count('POST', /\/cancel$/)).toBe(1);
  });

  it('serves a failed run with its lastError', async () => {
    const { threadId, assistantId } = await start();
    const created = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: { assistantId, metadata: { script: 'fail' } },
    });
    const runId = created.data?.createRun.runId ?? '';
    await run(threadId, runId);
    const failed = (await run(threadId, runId)).data?.run;
    expect(failed).toMatchObject({
      status: 'FAILED',
      lastError: { code: 'server_error', message: 'The model broke down.' },
      completedAt: null,
      messages: [],
    });
    expect(failed?.failedAt).toEqual(expect.any(Number));
  });

  it('refuses bad input before any upstream call', async () => {
    const { threadId, assistantId } = await start();
    const fn = (name: string, parameters: unknown = { type: 'object' }) => ({
      type: 'function',
      function: { name, parameters },
    });
    let deep: unknown = { type: 'object' };
    for (let level = 0; level < 40; level++) deep = { properties: { x: deep } };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['no assistant and no model', {}],
      ['21 tools', { assistantId, tools: Array.from({ length: 21 }, (_, index) => fn(`f${index}`)) }],
      ['a tool of an unknown type', { assistantId, tools: [{ type: 'web_browser' }] }],
      ['function parameters over 64 KB', { assistantId, tools: [fn('big', { description: 'x'.repeat(65_536) })] }],
      ['function parameters deeper than MAX_JSON_DEPTH', { assistantId, tools: [fn('deep', deep)] }],
      ['instructions over 256,000 characters', { assistantId, instructions: 'x'.repeat(256_001) }],
      ['additional instructions over 256,000', { assistantId, additionalInstructions: '😀'.repeat(256_001) }],
      ['an empty additional message', { assistantId, additionalMessages: [{ role: 'USER', content: '' }] }],
      ['bad metadata', { assistantId, metadata: { k: 1 } }],
    ];
    for (const [name, input] of cases) {
      const refused = await execute(gateway as Gateway, CreateRunDocument, { threadId, input });
      expect(codes(refused), name).toEqual(['BAD_USER_INPUT']);
    }
    // Exactly at the limits is accepted (and so sent).
    const atLimits = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: {
        assistantId,
        instructions: 'x'.repeat(256_000),
        tools: Array.from({ length: 20 }, (_, i) => fn(`f${i}`)),
      },
    });
    expect(atLimits.errors).toBeUndefined();
    expect(calls()).toBe(1);

    const bigOutput = await execute(gateway as Gateway, SubmitToolOutputsDocument, {
      threadId,
      runId: atLimits.data?.createRun.runId ?? '',
      toolOutputs: [{ toolCallId: 'call_1', output: 'x'.repeat(512 * 1024 + 1) }],
    });
    expect(codes(bigOutput)).toEqual(['BAD_USER_INPUT']);
    expect(bigOutput.errors?.[0]?.extensions?.argument).toBe('toolOutputs[0].output');
    expect(calls()).toBe(1);
  });

  it('passes a model-only run on and maps the server’s refusal like any 400', async () => {
    const { threadId } = await start();
    const refused = await execute(gateway as Gateway, CreateRunDocument, { threadId, input: { model: 'echo' } });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ upstreamStatus: 400, upstreamParam: 'assistant_id' });
    expect(upstream?.count('POST', /\/runs$/)).toBe(1);
  });

  it('creates a run once per idempotencyKey; another input with the key is IDEMPOTENCY_CONFLICT', async () => {
    const { threadId, assistantId } = await start();
    const input = { assistantId, instructions: 'once' };
    const first = await execute(gateway as Gateway, CreateRunDocument, { threadId, input, idempotencyKey: 'run-1' });
    const second = await execute(gateway as Gateway, CreateRunDocument, { threadId, input, idempotencyKey: 'run-1' });
    expect(second.errors).toBeUndefined();
    expect(second.data?.createRun.id).toBe(first.data?.createRun.id);
    expect(upstream?.count('POST', /\/runs$/)).toBe(1);
    expect(upstream?.seen.find((seen) => seen.method === 'POST')?.headers['idempotency-key']).toMatch(/^gw-/);
    expect(state.runs.size).toBe(1);

    const other = await execute(gateway as Gateway, CreateRunDocument, {
      threadId,
      input: { assistantId, instructions: 'twice' },
      idempotencyKey: 'run-1',
    });
    expect(codes(other)).toEqual(['IDEMPOTENCY_CONFLICT']);
    expect(other.errors?.[0]?.extensions?.argument).toBe('idempotencyKey');
    expect(upstream?.count('POST', /\/runs$/)).toBe(1);
  });

  it('never sends a create twice when its outcome is unknown', async () => {
    const { threadId, assistantId } = await start();
    (upstream as TestUpstream).handler = (request) =>
      request.method === 'POST' && request.path.endsWith('/runs') ? { status: 500, body: {} } : { forward: true };
    const failed = await execute(gateway as Gateway, CreateRunDocument, { threadId, input: { assistantId } });
    expect(codes(failed)).toEqual(['UPSTREAM_ERROR']);
    expect(failed.errors?.[0]?.extensions?.outcome).toBe('unknown');
    expect(upstream?.count('POST', /\/runs$/)).toBe(1);
  });

  it('batches: 10 runs of one thread read the thread once; messages of N runs cost N filtered lists', async () => {
    const { threadId, assistantId } = await start();
    for (let index = 0; index < 10; index++) {
      await execute(gateway as Gateway, CreateRunDocument, { threadId, input: { assistantId } });
    }
    const before = calls();
    const threadReadsBefore = upstream?.count('GET', new RegExp(`/threads/${threadId}$`)) ?? 0;
    const page = await execute(gateway as Gateway, ThreadRunsDocument, { id: threadId, first: 10 });
    expect(page.errors).toBeUndefined();
    const edges = page.data?.thread?.runs.edges ?? [];
    expect(edges).toHaveLength(10);
    expect(edges.every((edge) => edge.node.thread?.id === threadId)).toBe(true);
    expect((upstream?.count('GET', new RegExp(`/threads/${threadId}$`)) ?? 0) - threadReadsBefore).toBe(1);
    expect(calls() - before).toBe(2);

    // Paging on from the cursor: the next page is empty.
    const next = await execute(gateway as Gateway, ThreadRunsDocument, {
      id: threadId,
      first: 10,
      after: page.data?.thread?.runs.pageInfo.endCursor ?? null,
    });
    expect(next.data?.thread?.runs.edges).toEqual([]);

    // Complete them all (two reads each), then read every run's messages in one request.
    for (const edge of edges) {
      await run(threadId, edge.node.runId);
      await run(threadId, edge.node.runId);
    }
    const listsBefore = upstream?.count('GET', /run_id=/) ?? 0;
    const withMessages = await execute(gateway as Gateway, ThreadRunMessagesDocument, { id: threadId });
    expect(withMessages.errors).toBeUndefined();
    const nodes = withMessages.data?.thread?.runs.nodes ?? [];
    expect(nodes).toHaveLength(10);
    for (const node of nodes) {
      expect(node.messages).toHaveLength(1);
      expect(node.messages[0]?.runId).toBe(node.runId);
    }
    expect((upstream?.count('GET', /run_id=/) ?? 0) - listsBefore).toBe(10);
    const runIds = new Set(
      upstream?.seen.slice(-10).map((seen) => new URL(seen.path, 'http://x').searchParams.get('run_id')),
    );
    expect(runIds.size).toBe(10);
  });

  it('resolves a Run by its global id through node(id:)', async () => {
    const { threadId, assistantId } = await start();
    const created = await execute(gateway as Gateway, CreateRunDocument, { threadId, input: { assistantId } });
    const id = created.data?.createRun.id ?? '';
    const before = calls();
    const node = await execute(gateway as Gateway, RunNodeDocument, { id });
    expect(node.errors).toBeUndefined();
    expect(node.data?.node).toMatchObject({ __typename: 'Run', id, threadId, runId: created.data?.createRun.runId });
    expect(calls() - before).toBe(1);
    const assistant = await execute(gateway as Gateway, RunNodeDocument, { id: assistantId });
    expect(assistant.data?.node).toMatchObject({ __typename: 'Assistant', id: assistantId, model: 'echo' });
    // A global id of a run on another thread is refused for this thread.
    const other = await execute(gateway as Gateway, GetRunDocument, { threadId: 'thread_other', id });
    expect(codes(other)).toEqual(['BAD_USER_INPUT']);
  });

  it('checks answers: an unknown status is UPSTREAM_ERROR; missing optional fields are null', async () => {
    const { threadId } = await start();
    (upstream as TestUpstream).handler = (request) => {
      if (request.path.includes('/runs/run_odd')) return { status: 200, body: { id: 'run_odd', status: 'thinking' } };
      if (request.path.includes('/runs/run_lean')) return { status: 200, body: { id: 'run_lean', status: 'queued' } };
      if (request.path.includes('/runs/run_wrong')) return { status: 200, body: { id: 'run_else', status: 'queued' } };
      if (request.path.includes('/runs/run_bad_at'))
        return { status: 200, body: { id: 'run_bad_at', status: 'queued', created_at: 'soon' } };
      if (request.path.includes('run_id=')) return { status: 200, body: { object: 'list', data: [], has_more: false } };
      return { forward: true };
    };
    for (const id of ['run_odd', 'run_wrong', 'run_bad_at']) {
      expect(codes(await run(threadId, id)), id).toEqual(['UPSTREAM_ERROR']);
    }
    const lean = await run(threadId, 'run_lean');
    expect(lean.errors).toBeUndefined();
    expect(lean.data?.run).toMatchObject({
      runId: 'run_lean',
      threadId,
      status: 'QUEUED',
      assistantId: null,
      model: null,
      createdAt: null,
      tools: [],
      metadata: {},
      usage: null,
      requiredToolCalls: [],
    });
  });
});
