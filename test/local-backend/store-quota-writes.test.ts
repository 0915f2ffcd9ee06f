import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OBJECT_ID_MAX_LENGTH } from '../../src/domain/thread-rules.ts';
import { createLocalBackend, type LocalBackend } from '../../src/local-backend/backend.ts';
import type { BackendAnswer } from '../../src/local-backend/http/answer.ts';
import { withQuota } from '../../src/local-backend/store/quota.ts';
import { type NewStoredMessage, StorageQuotaError, type Store } from '../../src/local-backend/store/store.ts';
import { idempotencyBytes } from '../../src/local-backend/store/stored-bytes.ts';
import { codes, execute, testGateway } from '../helpers/gateway.ts';
import { POSTGRES_URL } from '../helpers/postgres.ts';
import { reportSkip } from '../helpers/skips.ts';
import { hasPostgres, storeImplementations } from '../helpers/stores.ts';

if (!hasPostgres) reportSkip('quota on every write, on postgres', `no PostgreSQL at ${POSTGRES_URL}`);

const text = (value: string): NewStoredMessage => ({
  role: 'user',
  content: [{ type: 'text', text: { value, annotations: [] } }],
});

/** One request to the backend, in-process, as the HTTP server would hand it over. */
function call(
  backend: LocalBackend,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<BackendAnswer> {
  const all: Record<string, string> = {
    authorization: 'Bearer sk-local',
    'openai-beta': 'assistants=v2',
    'content-type': 'application/json',
    ...headers,
  };
  const [pathname = '', search = ''] = path.split('?');
  return backend.handle({
    method,
    path: pathname,
    search,
    header: (name) => all[name.toLowerCase()],
    text: async () => (body === undefined ? '' : JSON.stringify(body)),
  });
}

const ids = (length: number, count = 20) =>
  Array.from({ length: count }, (_, index) => `file-${String(index).padStart(length - 5, 'x')}`);

describe.each(storeImplementations)('the storage quota holds for every write that grows the store: $name', (row) => {
  const suite = row.available ? describe : describe.skip;
  suite('', () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await row.open());
    });
    afterEach(async () => {
      await store.close();
      await dispose();
    });

    it('updates that grow a thread or a message are refused past the quota; shrinking ones and deletes are not', async () => {
      const quota = 10_000;
      const limited = withQuota(store, quota);
      const threads: string[] = [];
      let refusedUpdates = 0;
      // The shape: many small threads, each then given 20 file ids as long as ids may be.
      for (let index = 0; index < 60; index++) {
        let id: string;
        try {
          id = (await limited.createThread({})).id;
        } catch (error) {
          expect(error).toBeInstanceOf(StorageQuotaError);
          break;
        }
        threads.push(id);
        const patch = { tool_resources: { code_interpreter: { file_ids: ids(OBJECT_ID_MAX_LENGTH) } } };
        await limited.updateThread(id, patch).catch((error: unknown) => {
          expect(error).toBeInstanceOf(StorageQuotaError);
          refusedUpdates++;
        });
        expect(await limited.usedBytes()).toBeLessThanOrEqual(quota);
      }
      expect(refusedUpdates).toBeGreaterThan(0);
      expect(await limited.usedBytes()).toBeLessThanOrEqual(quota);

      // Metadata grown to its maximum on an existing message: refused, the message unchanged.
      const first = threads[0] ?? '';
      const message = await store.createMessage(first, text('m'));
      if (!message) throw new Error('no message');
      const used = await limited.usedBytes();
      const full = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
      await expect(limited.updateMessage(first, message.id, full)).rejects.toThrow(StorageQuotaError);
      await expect(limited.updateThread(first, { metadata: full })).rejects.toThrow(StorageQuotaError);
      expect(await limited.getMessage(first, message.id)).toEqual(message);
      expect(await limited.usedBytes()).toBe(used);

      // A shrinking update goes through even when the quota is full, and gives its bytes back.
      const shrunk = await limited.updateThread(first, { tool_resources: null });
      expect(shrunk?.tool_resources).toBeNull();
      expect(await limited.usedBytes()).toBeLessThan(used);
      // Deletes give their bytes back; the refused growth then fits.
      for (const id of threads.slice(1)) expect(await limited.deleteThread(id)).toBe(true);
      await expect(limited.updateMessage(first, message.id, full)).resolves.toMatchObject({ metadata: full });
      expect(await limited.usedBytes()).toBeLessThanOrEqual(quota);
    });

    it('remembered idempotency answers count against the quota, and replacing one counts it once', async () => {
      const record = { fingerprint: 'f'.repeat(64), answer: 'a'.repeat(5_000), expiresAt: Date.now() + 60_000 };
      await store.putIdempotency('key\u0000a', record);
      expect(await store.usedBytes()).toBe(idempotencyBytes(record));
      const replacement = { ...record, answer: 'b'.repeat(1_000) };
      await store.putIdempotency('key\u0000a', replacement);
      expect(await store.usedBytes()).toBe(idempotencyBytes(replacement));
      await store.putIdempotency('key\u0000b', record);
      expect(await store.usedBytes()).toBe(idempotencyBytes(replacement) + idempotencyBytes(record));
    });

    it('creating and deleting large messages under fresh Idempotency-Keys cannot fill the store past the quota', async () => {
      const quota = 100_000;
      const backend = createLocalBackend({ store: withQuota(store, quota) });
      const thread = await call(backend, 'POST', '/v1/threads', {});
      const threadId = (JSON.parse(thread.body) as { id: string }).id;
      const statuses: number[] = [];
      for (let index = 0; index < 20; index++) {
        const made = await call(
          backend,
          'POST',
          `/v1/threads/${threadId}/messages`,
          { role: 'user', content: 'x'.repeat(90_000) },
          { 'idempotency-key': `fresh-${index}` },
        );
        statuses.push(made.status);
        if (made.status !== 200) {
          expect(made.status).toBe(429);
          expect(JSON.parse(made.body)).toMatchObject({ error: { code: 'storage_quota' } });
          continue;
        }
        const id = (JSON.parse(made.body) as { id: string }).id;
        expect((await call(backend, 'DELETE', `/v1/threads/${threadId}/messages/${id}`)).status).toBe(200);
      }
      // One 90 KB answer is remembered; the next create would pass the quota with its own answer.
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      const used = await store.usedBytes();
      expect(used).toBeGreaterThan(90_000);
      expect(used).toBeLessThanOrEqual(quota);
      // The remembered answer still replays, without a create.
      const replay = await call(
        backend,
        'POST',
        `/v1/threads/${threadId}/messages`,
        { role: 'user', content: 'x'.repeat(90_000) },
        { 'idempotency-key': 'fresh-0' },
      );
      expect(replay.status).toBe(200);
    });

    it('assistant updates, tool outputs and run metadata that grow the store are refused past the quota', async () => {
      const quota = 200_000;
      const backend = createLocalBackend({ store: withQuota(store, quota) });
      const json = (answer: BackendAnswer) => JSON.parse(answer.body) as Record<string, unknown>;
      const refusedOrOk = (answer: BackendAnswer) => {
        if (answer.status !== 200) expect(json(answer)).toMatchObject({ error: { code: 'storage_quota' } });
        return answer.status;
      };
      // Many small assistants, each then given long instructions.
      const updates: number[] = [];
      for (let index = 0; index < 12; index++) {
        const made = json(await call(backend, 'POST', '/v1/assistants', { model: 'echo' }));
        updates.push(
          refusedOrOk(await call(backend, 'POST', `/v1/assistants/${made.id}`, { instructions: 'i'.repeat(50_000) })),
        );
      }
      expect(updates).toContain(429);
      expect(await store.usedBytes()).toBeLessThanOrEqual(quota);
      // Free the room, then fill it with tool outputs of runs waiting for them.
      for (const assistant of json(await call(backend, 'GET', '/v1/assistants?limit=100')).data as Array<{
        id: string;
      }>) {
        await call(backend, 'DELETE', `/v1/assistants/${assistant.id}`);
      }
      const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };
      const submits: number[] = [];
      const runs: string[] = [];
      for (let index = 0; index < 12; index++) {
        const thread = json(
          await call(backend, 'POST', '/v1/threads', { messages: [{ role: 'user', content: '/call get_weather {}' }] }),
        );
        const run = json(
          await call(backend, 'POST', `/v1/threads/${thread.id}/runs`, { model: 'echo', tools: [weather] }),
        );
        let waiting = run;
        for (let read = 0; waiting.status !== 'requires_action' && read < 100; read++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          waiting = json(await call(backend, 'GET', `/v1/threads/${thread.id}/runs/${run.id}`));
        }
        const callId = (waiting.required_action as { submit_tool_outputs: { tool_calls: Array<{ id: string }> } })
          .submit_tool_outputs.tool_calls[0]?.id;
        const output = { tool_outputs: [{ tool_call_id: callId, output: 'o'.repeat(20_000) }] };
        submits.push(
          refusedOrOk(
            await call(backend, 'POST', `/v1/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, output),
          ),
        );
        runs.push(`/v1/threads/${thread.id}/runs/${run.id}`);
        if (submits.at(-1) === 429) break;
      }
      expect(submits).toContain(429);
      expect(await store.usedBytes()).toBeLessThanOrEqual(quota);
      // Run metadata grown to its maximum, run after run: refused once the quota is full.
      const metadata = Object.fromEntries(
        Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, 'k'), 'v'.repeat(512)]),
      );
      const modifies: number[] = [];
      for (const path of runs) modifies.push(refusedOrOk(await call(backend, 'POST', path, { metadata })));
      expect(modifies).toContain(429);
      expect(await store.usedBytes()).toBeLessThanOrEqual(quota);
      // A run can still be cancelled with the quota full.
      expect((await call(backend, 'POST', `${runs.at(-1)}/cancel`)).status).toBe(200);
      await backend.stop();
    });
  });
});

describe('every id the API takes has a length limit that its own ids meet', () => {
  let backend: LocalBackend;
  beforeEach(() => {
    backend = createLocalBackend();
  });

  async function refusal(method: string, path: string, body: unknown): Promise<{ status: number; param: unknown }> {
    const answer = await call(backend, method, path, body);
    const parsed = JSON.parse(answer.body) as { error?: { param?: unknown } };
    return { status: answer.status, param: parsed.error?.param };
  }

  it('file ids, vector store ids and attachment and image file ids longer than the limit are refused with 400', async () => {
    const long = `file-${'x'.repeat(45_000)}`;
    const thread = JSON.parse((await call(backend, 'POST', '/v1/threads', {})).body) as { id: string };
    const cases: Array<[string, string, unknown, string]> = [
      [
        'POST',
        `/v1/threads/${thread.id}`,
        { tool_resources: { code_interpreter: { file_ids: [long] } } },
        'tool_resources.code_interpreter.file_ids[0]',
      ],
      [
        'POST',
        '/v1/threads',
        { tool_resources: { file_search: { vector_store_ids: [`vs_${'y'.repeat(OBJECT_ID_MAX_LENGTH)}`] } } },
        'tool_resources.file_search.vector_store_ids[0]',
      ],
      [
        'POST',
        `/v1/threads/${thread.id}/messages`,
        { role: 'user', content: 'hi', attachments: [{ file_id: long, tools: [{ type: 'file_search' }] }] },
        'attachments[0].file_id',
      ],
      [
        'POST',
        `/v1/threads/${thread.id}/messages`,
        { role: 'user', content: [{ type: 'image_file', image_file: { file_id: long } }] },
        'content[0].image_file.file_id',
      ],
      [
        'POST',
        '/v1/conversations',
        { items: [{ role: 'user', content: [{ type: 'input_image', file_id: long }] }] },
        'items[0].content[0].file_id',
      ],
    ];
    for (const [method, path, body, param] of cases) {
      expect(await refusal(method, path, body)).toEqual({ status: 400, param });
    }
    expect((await refusal('GET', `/v1/threads/${thread.id}/messages?run_id=${'r'.repeat(200)}`, undefined)).param).toBe(
      'run_id',
    );
    // Nothing was stored by any of them.
    expect(await backend.store.usedBytes()).toBeLessThan(200);
  });

  it('ids shaped as the API hands them out, and ids at the limit, are accepted', async () => {
    const atLimit = ids(OBJECT_ID_MAX_LENGTH);
    expect(atLimit.every((id) => id.length === OBJECT_ID_MAX_LENGTH)).toBe(true);
    const made = await call(backend, 'POST', '/v1/threads', {
      tool_resources: {
        code_interpreter: { file_ids: ['file-AbCdEfGhIjKlMnOpQrStUv12', ...atLimit.slice(1)] },
        file_search: { vector_store_ids: ['vs_abcdefghijklmnopqrstuvwx'] },
      },
    });
    expect(made.status).toBe(200);
  });

  it('the gateway refuses a long file id before any upstream call, with BAD_USER_INPUT', async () => {
    const gateway = testGateway();
    try {
      const result = await execute(
        gateway,
        'mutation($r: JSON) { createThread(input: { toolResources: $r }) { id } }',
        { r: { code_interpreter: { file_ids: [`file-${'x'.repeat(45_000)}`] } } },
      );
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(gateway.localBackend?.requests.get('POST /v1/threads')).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });
});
