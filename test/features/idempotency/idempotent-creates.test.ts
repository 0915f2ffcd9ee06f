import { describe, expect, it } from 'vitest';
import { IdempotentCreates, MemoryIdempotencyStore } from '../../../src/features/idempotency/idempotent-creates.ts';

describe('IdempotentCreates', () => {
  const creates = () =>
    new IdempotentCreates(new MemoryIdempotencyStore({ ttlMs: 60_000, maxEntries: 100, perCaller: 2 }));

  it('runs a create once per caller and key, for any JSON result', async () => {
    const idempotent = creates();
    let made = 0;
    const make = async (upstreamKey: string) => ({ id: `msg_${++made}`, upstreamKey });
    const first = await idempotent.run('token:a', 'k', { text: 'hi' }, make);
    const again = await idempotent.run('token:a', 'k', { text: 'hi' }, make);
    expect(again).toEqual(first);
    expect(made).toBe(1);
    expect(first.upstreamKey).toMatch(/^gw-[0-9a-f]{48}$/);
  });

  it('scopes keep operations apart, and all scopes share the caller’s quota', async () => {
    const idempotent = creates();
    let made = 0;
    const make = async () => ({ id: ++made });
    const one = await idempotent.run('token:a', 'k', { text: 'hi' }, make, { scope: 'message:thread_1' });
    const two = await idempotent.run('token:a', 'k', { text: 'hi' }, make, { scope: 'message:thread_2' });
    expect(one).not.toEqual(two);
    await expect(idempotent.run('token:a', 'k', { text: 'hi' }, make)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(await idempotent.run('token:b', 'k', { text: 'hi' }, make)).toEqual({ id: 3 });
  });

  it('a different input under a key in use is IDEMPOTENCY_CONFLICT, also while the first runs', async () => {
    const idempotent = creates();
    let release: () => void = () => undefined;
    const slow = idempotent.run(
      'token:a',
      'k',
      { n: 1 },
      () =>
        new Promise<{ id: number }>((resolve) => {
          release = () => resolve({ id: 1 });
        }),
    );
    await expect(idempotent.run('token:a', 'k', { n: 2 }, async () => ({ id: 2 }))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    release();
    expect(await slow).toEqual({ id: 1 });
    await expect(idempotent.run('token:a', 'k', { n: 2 }, async () => ({ id: 2 }))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
  });
});
