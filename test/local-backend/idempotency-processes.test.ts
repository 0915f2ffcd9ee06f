import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/local-backend/store/postgres-store.ts';
import { dropSchema, POSTGRES_URL, postgresReachable, schemaName } from '../helpers/postgres.ts';
import { postKeyed, type ServedBackend, serveRunBackend } from '../helpers/run-backend.ts';
import { reportSkip } from '../helpers/skips.ts';

/**
 * Two local backends on one PostgreSQL database (two processes' worth: each its own pool and its own
 * queue per key) receive the same Idempotency-Key at once: one object is made, every request gets
 * its answer, and another body under the key is 409. A claim whose holder died lapses, and the next
 * request under the key creates.
 */

const hasPostgres = await postgresReachable();
if (!hasPostgres) reportSkip('Idempotency-Key across processes on postgres', 'no PostgreSQL reachable');

describe.skipIf(!hasPostgres)('one Idempotency-Key, two backends on one PostgreSQL', () => {
  const served: ServedBackend[] = [];
  let schema = '';
  afterEach(async () => {
    for (const backend of served.splice(0)) await backend.close();
    await dropSchema(schema);
  });

  async function twoBackends(): Promise<[ServedBackend, ServedBackend]> {
    schema = schemaName('idem_procs');
    const open = () => openPostgresStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 });
    const first = await serveRunBackend(await open());
    const second = await serveRunBackend(await open());
    served.push(first, second);
    return [first, second];
  }

  const post = postKeyed;

  it('20 concurrent creates split over both make one thread and one assistant; another body is 409', async () => {
    const [first, second] = await twoBackends();
    for (const [path, body] of [
      ['/threads', { metadata: { n: '1' } }],
      ['/assistants', { model: 'echo', name: 'one' }],
    ] as const) {
      const key = `across-${path.slice(1)}`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) => post((index % 2 ? first : second).url, path, body, key)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      const other = await Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          post((index % 2 ? first : second).url, path, { ...body, metadata: { n: '2' } }, key),
        ),
      );
      expect(other.map((answer) => answer.status)).toEqual(Array(4).fill(409));
    }
    expect((await first.client.beta.assistants.list()).data).toHaveLength(1);
  });

  it('a claim whose holder stopped renewing it lapses: the next request creates, once', async () => {
    const [first, second] = await twoBackends();
    const key = 'lapsed';
    // What `idempotentByPath` stores for this caller, path and key: a holder that died 300 ms from now.
    const { sha256 } = await import('../../src/local-backend/http/idempotency.ts');
    const scoped = sha256(`sk-local\u0000/v1/threads\u0000${key}`);
    expect(await first.store.claimIdempotency(scoped, 'a-process-that-died', Date.now() + 300)).toBe(true);
    expect(await second.store.claimIdempotency(scoped, 'another', Date.now() + 300)).toBe(false);

    const started = Date.now();
    const answers = await Promise.all([
      post(first.url, '/threads', { metadata: { n: '1' } }, key),
      post(second.url, '/threads', { metadata: { n: '1' } }, key),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers[0]?.body.id).toBe(answers[1]?.body.id);
  });
});
