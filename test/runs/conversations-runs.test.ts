import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import type { RunRecords } from '../../src/features/runs/run-records.ts';
import { openPostgresRunRecords } from '../../src/features/runs/sql-run-records.ts';
import {
  CancelRunDocument,
  CreateAssistantDocument,
  CreateRunDocument,
  DeleteAssistantDocument,
  GetAssistantDocument,
  GetRunDocument,
  ListAssistantsDocument,
  SubmitToolOutputsDocument,
  UpdateAssistantDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { dropSchema, POSTGRES_URL, postgresReachable, schemaName } from '../helpers/postgres.ts';
import { type ResponsesUpstream, startResponsesUpstream } from '../helpers/responses-upstream.ts';
import { reportSkip } from '../helpers/skips.ts';

let upstream: ResponsesUpstream | undefined;
let gateways: Gateway[] = [];
let dataDir: string | undefined;

afterEach(async () => {
  for (const gateway of gateways) await gateway.close();
  gateways = [];
  await upstream?.close();
  upstream = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function startUpstream(): Promise<ResponsesUpstream> {
  upstream = await startResponsesUpstream();
  return upstream;
}

/** A gateway over the test upstream with UPSTREAM_API=conversations (records in memory unless `env` says). */
function gatewayFor(env: Record<string, string> = {}, runRecords?: RunRecords): Gateway {
  const gateway = testGateway(
    { UPSTREAM_API: 'conversations', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream?.url ?? '', ...env },
    runRecords ? { runRecords } : {},
  );
  gateways.push(gateway);
  return gateway;
}

/** Upstream calls made by `step`. */
async function counted<T>(step: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = upstream?.seen.length ?? 0;
  const result = await step();
  return { result, calls: (upstream?.seen.length ?? 0) - before };
}

const TOOLS = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
  { type: 'function', function: { name: 'get_time', description: 'The time now' } },
];

async function readRun(gateway: Gateway, threadId: string, id: string) {
  const { result, calls } = await counted(() => execute(gateway, GetRunDocument, { threadId, id }));
  expect(result.errors).toBeUndefined();
  const run = result.data?.run;
  if (!run) throw new Error('no run');
  return { run, calls };
}

async function submit(gateway: Gateway, threadId: string, runId: string, toolCallId: string, output: string) {
  const { result, calls } = await counted(() =>
    execute(gateway, SubmitToolOutputsDocument, { threadId, runId, toolOutputs: [{ toolCallId, output }] }),
  );
  expect(result.errors).toBeUndefined();
  return { run: result.data?.submitToolOutputs, calls };
}

function postedBodies(): Array<Record<string, unknown>> {
  return (upstream?.seen ?? [])
    .filter((seen) => seen.method === 'POST' && seen.path === '/v1/responses')
    .map((seen) => JSON.parse(seen.body) as Record<string, unknown>);
}

describe('runs over Responses + Conversations', () => {
  it('runs a chain of three responses (two tool rounds) as one run, step by step', async () => {
    await startUpstream();
    const gateway = gatewayFor();
    const threadId = upstream?.createConversation() ?? '';

    const { result: created, calls: createCalls } = await counted(() =>
      execute(gateway, CreateRunDocument, {
        threadId,
        input: { model: 'gpt-test', instructions: 'be brief', tools: TOOLS, metadata: { script: 'tools' } },
        idempotencyKey: 'run-key-1',
      }),
    );
    expect(created.errors).toBeUndefined();
    const first = created.data?.createRun;
    expect(first).toMatchObject({
      threadId,
      status: 'QUEUED',
      model: 'gpt-test',
      instructions: 'be brief',
      tools: TOOLS,
    });
    expect(first?.runId).toMatch(/^run_/);
    expect(createCalls).toBe(1);
    const runId = first?.runId ?? '';
    expect(postedBodies()[0]).toEqual({
      model: 'gpt-test',
      conversation: threadId,
      instructions: 'be brief',
      tools: [
        { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } },
        {
          type: 'function',
          name: 'get_time',
          description: 'The time now',
          parameters: { type: 'object', properties: {} },
        },
      ],
      metadata: { script: 'tools' },
      background: true,
      store: true,
      // Asked to stream (docs/live.md); this upstream answers plainly, and the run is read.
      stream: true,
    });
    // The schema layer's key for the caller's idempotencyKey goes as the SDK's Idempotency-Key header.
    expect(upstream?.seen[0]?.headers['idempotency-key']).toMatch(/^gw-/);

    // Response 1: in_progress, then completed with a function call: REQUIRES_ACTION.
    let step = await readRun(gateway, threadId, runId);
    expect(step).toMatchObject({ calls: 1, run: { status: 'IN_PROGRESS', messages: [] } });
    expect(step.run.startedAt).toEqual(expect.any(Number));
    step = await readRun(gateway, threadId, runId);
    expect(step.calls).toBe(1);
    expect(step.run.status).toBe('REQUIRES_ACTION');
    expect(step.run.requiredToolCalls.map((call) => [call.name, call.arguments])).toEqual([
      ['get_weather', '{"city":"Oslo"}'],
    ]);
    // Waiting on outputs, its response is final: read from the record, no call.
    expect((await readRun(gateway, threadId, runId)).calls).toBe(0);

    // Tool round 1: a new response on the conversation with the output, the settings sent again.
    const weather = step.run.requiredToolCalls[0]?.id ?? '';
    const round1 = await submit(gateway, threadId, runId, weather, 'sunny');
    expect(round1).toMatchObject({ calls: 1, run: { runId, status: 'QUEUED', requiredToolCalls: [] } });
    expect(postedBodies()[1]).toMatchObject({
      conversation: threadId,
      instructions: 'be brief',
      input: [{ type: 'function_call_output', call_id: weather, output: 'sunny' }],
      background: true,
    });

    // Response 2: a message and another function call.
    expect((await readRun(gateway, threadId, runId)).run.status).toBe('IN_PROGRESS');
    step = await readRun(gateway, threadId, runId);
    expect(step.run).toMatchObject({ status: 'REQUIRES_ACTION', messages: [{ text: 'checking the time', runId }] });
    expect(step.run.requiredToolCalls.map((call) => call.name)).toEqual(['get_time']);

    // Tool round 2, response 3: completed.
    const round2 = await submit(gateway, threadId, runId, step.run.requiredToolCalls[0]?.id ?? '', 'noon');
    expect(round2.calls).toBe(1);
    expect((await readRun(gateway, threadId, runId)).run.status).toBe('IN_PROGRESS');
    step = await readRun(gateway, threadId, runId);
    expect(step.calls).toBe(1);
    expect(step.run).toMatchObject({
      id: first?.id,
      runId,
      status: 'COMPLETED',
      requiredToolCalls: [],
      lastError: null,
      usage: { promptTokens: 30, completionTokens: 15, totalTokens: 45 },
      messages: [
        { role: 'ASSISTANT', text: 'checking the time', runId },
        { role: 'ASSISTANT', text: 'tools said: noon', runId },
      ],
    });
    expect(step.run.completedAt).toEqual(expect.any(Number));
    // Final: served from the record.
    expect((await readRun(gateway, threadId, runId)).calls).toBe(0);
    expect(upstream?.count('POST', /^\/v1\/responses$/)).toBe(3);
    // A submit to a finished run: refused, nothing sent.
    const late = await counted(() =>
      execute(gateway, SubmitToolOutputsDocument, {
        threadId,
        runId,
        toolOutputs: [{ toolCallId: weather, output: 'x' }],
      }),
    );
    expect(codes(late.result)).toEqual(['BAD_USER_INPUT']);
    expect(late.calls).toBe(0);
  });

  it('keeps runs and assistants in SQLite: a new gateway on the same DATA_DIR carries the run on', async () => {
    await startUpstream();
    dataDir = mkdtempSync(join(tmpdir(), 'gateway-runs-'));
    const env = { LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: dataDir };
    const threadId = upstream?.createConversation() ?? '';
    const first = gatewayFor(env);
    const assistant = await execute(first, CreateAssistantDocument, {
      input: { model: 'gpt-test', instructions: 'be brief', tools: TOOLS },
    });
    const assistantId = assistant.data?.createAssistant.id ?? '';
    const created = await execute(first, CreateRunDocument, {
      threadId,
      input: { assistantId, metadata: { script: 'tools' } },
    });
    const runId = created.data?.createRun.runId ?? '';
    expect(postedBodies()[0]).toMatchObject({
      model: 'gpt-test',
      instructions: 'be brief',
      tools: [{ name: 'get_weather' }, { name: 'get_time' }],
    });
    expect((await readRun(first, threadId, runId)).run.status).toBe('IN_PROGRESS');
    expect((await readRun(first, threadId, runId)).run.status).toBe('REQUIRES_ACTION');
    await first.close();
    gateways = [];

    const second = gatewayFor(env);
    const waiting = await readRun(second, threadId, runId);
    expect(waiting).toMatchObject({ calls: 0, run: { status: 'REQUIRES_ACTION', assistantId, model: 'gpt-test' } });
    const round = await submit(second, threadId, runId, waiting.run.requiredToolCalls[0]?.id ?? '', 'sunny');
    expect(round.run?.status).toBe('QUEUED');
    await second.close();
    gateways = [];

    const third = gatewayFor(env);
    expect((await readRun(third, threadId, runId)).run.status).toBe('IN_PROGRESS');
    const done = await readRun(third, threadId, runId);
    expect(done.run).toMatchObject({ status: 'REQUIRES_ACTION', messages: [{ text: 'checking the time' }] });
    const again = await execute(third, GetAssistantDocument, { id: assistantId });
    expect(again.data?.assistant?.instructions).toBe('be brief');
  });

  it('cancels a run: the current response is cancelled, the run is CANCELLED, and stays so without calls', async () => {
    await startUpstream();
    const gateway = gatewayFor();
    const threadId = upstream?.createConversation() ?? '';
    const created = await execute(gateway, CreateRunDocument, {
      threadId,
      input: { model: 'gpt-test', metadata: { script: 'slow' } },
    });
    const runId = created.data?.createRun.runId ?? '';
    expect((await readRun(gateway, threadId, runId)).run.status).toBe('IN_PROGRESS');
    const cancel = await counted(() => execute(gateway, CancelRunDocument, { threadId, runId }));
    expect(cancel.result.errors).toBeUndefined();
    expect(cancel.result.data?.cancelRun.status).toBe('CANCELLED');
    expect(cancel.result.data?.cancelRun.cancelledAt).toEqual(expect.any(Number));
    // The schema's read of the run first, then the cancel.
    expect(cancel.calls).toBe(2);
    expect(upstream?.count('POST', /\/v1\/responses\/resp_[^/]+\/cancel$/)).toBe(1);
    expect(await readRun(gateway, threadId, runId)).toMatchObject({ calls: 0, run: { status: 'CANCELLED' } });
    const again = await counted(() => execute(gateway, CancelRunDocument, { threadId, runId }));
    expect(codes(again.result)).toEqual(['BAD_USER_INPUT']);
    expect(again.calls).toBe(0);
  });

  it('serves a failed response as FAILED with its lastError', async () => {
    await startUpstream();
    const gateway = gatewayFor();
    const threadId = upstream?.createConversation() ?? '';
    const created = await execute(gateway, CreateRunDocument, {
      threadId,
      input: { model: 'gpt-test', metadata: { script: 'fail' } },
    });
    const runId = created.data?.createRun.runId ?? '';
    await readRun(gateway, threadId, runId);
    const failed = await readRun(gateway, threadId, runId);
    expect(failed).toMatchObject({
      calls: 1,
      run: { status: 'FAILED', lastError: { code: 'server_error', message: 'The model broke down.' }, messages: [] },
    });
    expect(failed.run.failedAt).toEqual(expect.any(Number));
    expect((await readRun(gateway, threadId, runId)).calls).toBe(0);
  });

  it('refuses a code_interpreter tool with UNSUPPORTED_BY_UPSTREAM before any call', async () => {
    await startUpstream();
    const gateway = gatewayFor();
    const threadId = upstream?.createConversation() ?? '';
    const run = await execute(gateway, CreateRunDocument, {
      threadId,
      input: { model: 'gpt-test', tools: [{ type: 'code_interpreter' }] },
    });
    expect(codes(run)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(run.errors?.[0]?.extensions?.argument).toBe('input.tools[0]');
    const assistant = await execute(gateway, CreateAssistantDocument, {
      input: { model: 'gpt-test', tools: [{ type: 'code_interpreter' }] },
    });
    expect(codes(assistant)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(upstream?.seen).toHaveLength(0);
  });

  it('serves assistants from the gateway’s records with no upstream call', async () => {
    await startUpstream();
    const gateway = gatewayFor();
    const created = await execute(gateway, CreateAssistantDocument, {
      input: { name: 'Helper', model: 'gpt-test', instructions: 'be brief', tools: TOOLS, metadata: { team: 'a' } },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createAssistant.id ?? '';
    expect(id).toMatch(/^asst_/);
    const read = await execute(gateway, GetAssistantDocument, { id });
    expect(read.data?.assistant).toMatchObject({
      name: 'Helper',
      model: 'gpt-test',
      tools: TOOLS,
      metadata: { team: 'a' },
    });
    const updated = await execute(gateway, UpdateAssistantDocument, { id, input: { instructions: 'be long' } });
    expect(updated.data?.updateAssistant).toMatchObject({ name: 'Helper', instructions: 'be long' });
    await execute(gateway, CreateAssistantDocument, { input: { name: 'Second', model: 'gpt-test' } });
    // Newest first, as the Threads API lists them.
    const list = await execute(gateway, ListAssistantsDocument, { first: 1 });
    expect(list.data?.assistants.edges.map((edge) => edge.node.name)).toEqual(['Second']);
    expect(list.data?.assistants.pageInfo.hasNextPage).toBe(true);
    const deleted = await execute(gateway, DeleteAssistantDocument, { id });
    expect(deleted.data?.deleteAssistant).toEqual({ id, deleted: true });
    expect((await execute(gateway, GetAssistantDocument, { id })).data?.assistant).toBeNull();
    expect(upstream?.seen).toHaveLength(0);
  });

  it('keeps runs in PostgreSQL (gateway_ tables): another gateway on the same database reads the run', async () => {
    if (!(await postgresReachable())) {
      reportSkip('runs over Conversations on PostgreSQL', `no PostgreSQL at ${POSTGRES_URL}`);
      return;
    }
    await startUpstream();
    const schema = schemaName('gateway_runs');
    try {
      const threadId = upstream?.createConversation() ?? '';
      const first = gatewayFor({}, await openPostgresRunRecords({ connectionString: POSTGRES_URL, schema }));
      const created = await execute(first, CreateRunDocument, { threadId, input: { model: 'gpt-test' } });
      const runId = created.data?.createRun.runId ?? '';
      const second = gatewayFor({}, await openPostgresRunRecords({ connectionString: POSTGRES_URL, schema }));
      expect((await readRun(second, threadId, runId)).run.status).toBe('IN_PROGRESS');
      const done = await readRun(first, threadId, runId);
      expect(done).toMatchObject({ calls: 1, run: { status: 'COMPLETED', messages: [{ text: 'echo: ' }] } });
      expect(await readRun(second, threadId, runId)).toMatchObject({ calls: 0, run: { status: 'COMPLETED' } });
    } finally {
      for (const gateway of gateways) await gateway.close();
      gateways = [];
      await dropSchema(schema);
    }
  });
});
