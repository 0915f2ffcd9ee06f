import { afterEach, describe, expect, it } from 'vitest';
import { postKeyed, type ServedBackend, STORE_KINDS, serveRunBackend } from '../helpers/run-backend.ts';

/**
 * Concurrent creates under one Idempotency-Key (a client's retries racing its first try) make one
 * object on every store: the others get its answer; another body under the key gets 409.
 */
describe.each(STORE_KINDS)('one Idempotency-Key, 20 concurrent creates: $name', (kind) => {
  let served: ServedBackend | undefined;
  let dispose: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await served?.close();
    await dispose?.();
  });

  it('makes one thread and one assistant; a different body under the key is 409', async () => {
    const data = await kind.create();
    dispose = data.dispose;
    served = await serveRunBackend(await data.open());
    const post = (path: string, body: unknown, key: string) => postKeyed(served?.url ?? '', path, body, key);
    for (const [path, body] of [
      ['/threads', { metadata: { n: '1' } }],
      ['/assistants', { model: 'echo', name: 'one' }],
    ] as const) {
      const key = `race-${path.slice(1)}`;
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(path, body, key)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      const other = await Promise.all(
        Array.from({ length: 5 }, () => post(path, { ...body, metadata: { n: '2' } }, key)),
      );
      expect(other.map((answer) => answer.status)).toEqual(Array(5).fill(409));
    }
    expect((await served.client.beta.assistants.list()).data).toHaveLength(1);
  });
});
