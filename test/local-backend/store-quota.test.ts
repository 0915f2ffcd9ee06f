import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { codes, execute, type GraphQLResponse, testGateway } from '../helpers/gateway.ts';

describe('the storage quota of the embedded backend, through the gateway', () => {
  let dir: string;
  let gateway: Gateway;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quota-'));
    gateway = testGateway({ LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: dir, LOCAL_BACKEND_MAX_BYTES: '4096' });
  });
  afterEach(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses creates past the quota with a coded error, keeps serving reads, and takes creates again after a delete', async () => {
    const create = 'mutation($m: JSON) { createThread(input: { metadata: $m }) { id } }';
    const made: string[] = [];
    let refused: GraphQLResponse<unknown> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const answer = await execute<{ createThread: { id: string } }, Record<string, unknown>>(gateway, create, {
        m: { pad: 'x'.repeat(500) },
      });
      const id = answer.data?.createThread.id;
      if (id) made.push(id);
      else refused = answer;
    }
    expect(made.length).toBeGreaterThan(3);
    expect(made.length).toBeLessThan(10);
    expect(refused?.status).toBe(200);
    const [code] = codes(refused ?? { status: 0, headers: new Headers() });
    // OpenAI's answer to an exhausted quota (429), with a Retry-After that waiting out is not worth:
    // the gateway answers at once, says nothing was created, and sends the create once only.
    expect(code).toBe('RATE_LIMITED');
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ outcome: 'not_created', retryAfter: 3600 });
    expect(gateway.localBackend?.requests.get('POST /v1/threads')).toBe(made.length + 1);

    const read = await execute(gateway, 'query($id: ID!) { thread(id: $id) { id } }', { id: made[0] });
    expect(read.data).toEqual({ thread: { id: made[0] } });
    const deleted = await execute(gateway, 'mutation($id: ID!) { deleteThread(id: $id) { deleted } }', {
      id: made[0],
    });
    expect(deleted.data).toEqual({ deleteThread: { deleted: true } });
    const again = await execute(gateway, create, { m: { pad: 'y' } });
    expect(again.errors).toBeUndefined();
  });
});
