import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateRunDocument,
  CreateThreadDocument,
  GetRunDocument,
  SubmitToolOutputsDocument,
} from '../helpers/documents.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';

/**
 * Runs through the whole stack with no network: the gateway over its embedded local backend and
 * the built-in `echo` model, in both API modes (Threads runs, and runs as chains of responses on
 * a conversation), across a restart of the gateway on the same DATA_DIR.
 */
let gateways: Gateway[] = [];
let dataDir: string | undefined;

afterEach(async () => {
  for (const gateway of gateways) await gateway.close();
  gateways = [];
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

function gatewayOn(api: string, dir: string): Gateway {
  const gateway = testGateway({ UPSTREAM_API: api, LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: dir });
  gateways.push(gateway);
  return gateway;
}

async function runUntil(gateway: Gateway, threadId: string, id: string, statuses: string[]) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const read = await execute(gateway, GetRunDocument, { threadId, id });
    expect(read.errors).toBeUndefined();
    const run = read.data?.run;
    if (run && statuses.includes(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const last = await execute(gateway, GetRunDocument, { threadId, id });
  throw new Error(`run ${id} never reached ${statuses.join(' or ')}: ${JSON.stringify(last)}`);
}

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object' } },
};

describe.each(['threads', 'conversations'])('runs on the embedded backend, UPSTREAM_API=%s', (api) => {
  it('answers with echo: created, completed, its message carries the run id', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'runs-local-'));
    const gateway = gatewayOn(api, dataDir);
    const thread = await execute(gateway, CreateThreadDocument, {
      input: { messages: [{ role: 'USER', content: 'Where is my order?' }] },
    });
    const threadId = thread.data?.createThread.id ?? '';
    const created = await execute(gateway, CreateRunDocument, { threadId, input: { model: 'echo' } });
    expect(created.errors).toBeUndefined();
    expect(['QUEUED', 'IN_PROGRESS', 'COMPLETED']).toContain(created.data?.createRun.status);
    const id = created.data?.createRun.id ?? '';
    const done = await runUntil(gateway, threadId, id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.messages).toEqual([
      expect.objectContaining({ role: 'ASSISTANT', text: 'Where is my order?', runId: done.runId }),
    ]);
    expect(done.usage?.totalTokens).toBeGreaterThan(0);
  });

  it('calls a tool, survives a gateway restart, and completes with the output', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'runs-local-'));
    const first = gatewayOn(api, dataDir);
    const thread = await execute(first, CreateThreadDocument, {
      input: { messages: [{ role: 'USER', content: '/call get_weather {"city":"Paris"}' }] },
    });
    const threadId = thread.data?.createThread.id ?? '';
    const created = await execute(first, CreateRunDocument, {
      threadId,
      input: { model: 'echo', instructions: 'Use the tools.', tools: [WEATHER_TOOL] },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createRun.id ?? '';
    const waiting = await runUntil(first, threadId, id, ['REQUIRES_ACTION', 'FAILED', 'COMPLETED']);
    expect(waiting.status).toBe('REQUIRES_ACTION');
    expect(waiting.requiredToolCalls).toEqual([
      expect.objectContaining({ name: 'get_weather', arguments: '{"city":"Paris"}' }),
    ]);
    const callId = waiting.requiredToolCalls[0]?.id ?? '';

    // A new gateway on the same data: the run is the same run, still waiting on the same call.
    await first.close();
    gateways = gateways.filter((gateway) => gateway !== first);
    const second = gatewayOn(api, dataDir);
    const again = await runUntil(second, threadId, id, ['REQUIRES_ACTION']);
    expect(again.requiredToolCalls.map((call) => call.id)).toEqual([callId]);

    const wrong = await execute(second, SubmitToolOutputsDocument, {
      threadId,
      runId: id,
      toolOutputs: [{ toolCallId: 'call_other', output: 'x' }],
    });
    expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
    const submitted = await execute(second, SubmitToolOutputsDocument, {
      threadId,
      runId: id,
      toolOutputs: [{ toolCallId: callId, output: 'sunny, 21 °C' }],
    });
    expect(submitted.errors).toBeUndefined();
    const done = await runUntil(second, threadId, id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.id).toBe(id);
    expect(done.messages.map((message) => message.text).join('\n')).toContain('sunny, 21 °C');
  });
});
