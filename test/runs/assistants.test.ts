import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import {
  CreateAssistantDocument,
  DeleteAssistantDocument,
  GetAssistantDocument,
  ListAssistantsDocument,
  UpdateAssistantDocument,
} from '../helpers/documents.ts';
import { codes, execute } from '../helpers/gateway.ts';
import { emptyRunsState, runsHandler } from '../helpers/runs-upstream.ts';
import { closeAll, startServerKeyGateway, type TestUpstream } from '../helpers/test-upstream.ts';

let upstream: TestUpstream | undefined;
let gateway: Gateway | undefined;

afterEach(() => closeAll(gateway, upstream));

async function start(): Promise<void> {
  const state = emptyRunsState();
  const pair = await startServerKeyGateway(
    { UPSTREAM_API: 'threads' },
    runsHandler(() => upstream as TestUpstream, state),
  );
  upstream = pair.upstream;
  gateway = pair.gateway;
}

describe('assistants over a Threads upstream', () => {
  it('creates, reads, lists, updates and deletes an assistant', async () => {
    await start();
    const created = await execute(gateway as Gateway, CreateAssistantDocument, {
      input: {
        name: 'Helper',
        model: 'echo',
        instructions: 'be brief',
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        metadata: { team: 'a' },
        temperature: 0.5,
        topP: 0.9,
      },
    });
    expect(created.errors).toBeUndefined();
    const assistant = created.data?.createAssistant;
    expect(assistant).toMatchObject({
      name: 'Helper',
      description: null,
      model: 'echo',
      instructions: 'be brief',
      metadata: { team: 'a' },
      temperature: 0.5,
      topP: 0.9,
    });
    expect(assistant?.id).toMatch(/^asst_/);
    const posted = JSON.parse(upstream?.seen.at(-1)?.body ?? '{}');
    expect(posted).toMatchObject({ model: 'echo', top_p: 0.9, temperature: 0.5 });

    const id = assistant?.id ?? '';
    const read = await execute(gateway as Gateway, GetAssistantDocument, { id });
    expect(read.data?.assistant).toEqual(assistant);

    await execute(gateway as Gateway, CreateAssistantDocument, { input: { model: 'echo', name: 'Second' } });
    const firstPage = await execute(gateway as Gateway, ListAssistantsDocument, { first: 1 });
    expect(firstPage.data?.assistants.edges.map((edge) => edge.node.name)).toEqual(['Second']);
    expect(firstPage.data?.assistants.pageInfo.hasNextPage).toBe(true);
    const secondPage = await execute(gateway as Gateway, ListAssistantsDocument, {
      first: 1,
      after: firstPage.data?.assistants.pageInfo.endCursor ?? null,
    });
    expect(secondPage.data?.assistants.edges.map((edge) => edge.node.name)).toEqual(['Helper']);
    expect(upstream?.seen.at(-1)?.path).toContain(`after=${firstPage.data?.assistants.edges[0]?.node.id}`);

    const updated = await execute(gateway as Gateway, UpdateAssistantDocument, {
      id,
      input: { name: 'Renamed', description: null },
    });
    expect(updated.data?.updateAssistant).toMatchObject({ name: 'Renamed', model: 'echo', description: null });
    expect(JSON.parse(upstream?.seen.at(-1)?.body ?? '{}')).toEqual({ name: 'Renamed', description: null });

    const deleted = await execute(gateway as Gateway, DeleteAssistantDocument, { id });
    expect(deleted.data?.deleteAssistant).toEqual({ id, deleted: true });
    const gone = await execute(gateway as Gateway, GetAssistantDocument, { id });
    expect(gone.data?.assistant).toBeNull();
    const missing = await execute(gateway as Gateway, UpdateAssistantDocument, { id, input: { name: 'x' } });
    expect(codes(missing)).toEqual(['NOT_FOUND']);
  });

  it('creates an assistant once per idempotencyKey', async () => {
    await start();
    const input = { model: 'echo', name: 'Once' };
    const first = await execute(gateway as Gateway, CreateAssistantDocument, { input, idempotencyKey: 'a-1' });
    const again = await execute(gateway as Gateway, CreateAssistantDocument, { input, idempotencyKey: 'a-1' });
    expect(again.data?.createAssistant.id).toBe(first.data?.createAssistant.id);
    const other = await execute(gateway as Gateway, CreateAssistantDocument, {
      input: { model: 'echo', name: 'Twice' },
      idempotencyKey: 'a-1',
    });
    expect(codes(other)).toEqual(['IDEMPOTENCY_CONFLICT']);
    expect(upstream?.count('POST', /\/assistants$/)).toBe(1);
  });

  it('refuses bad assistant input before any upstream call', async () => {
    await start();
    const tooMany = Array.from({ length: 129 }, () => ({ type: 'code_interpreter' }));
    for (const input of [
      { name: 'no model' },
      { model: 'echo', tools: tooMany },
      { model: 'echo', instructions: 'x'.repeat(256_001) },
      { model: 'echo', name: 'x'.repeat(257) },
    ]) {
      expect(codes(await execute(gateway as Gateway, CreateAssistantDocument, { input }))).toEqual(['BAD_USER_INPUT']);
    }
    const cleared = await execute(gateway as Gateway, UpdateAssistantDocument, {
      id: 'asst_x',
      input: { model: null },
    });
    expect(codes(cleared)).toEqual(['BAD_USER_INPUT']);
    expect(upstream?.seen).toHaveLength(0);
  });
});
