import { describe, expect, it } from 'vitest';
import { IdempotentCreates } from '../../../src/features/idempotency/idempotent-creates.ts';
import { MemoryIdempotencyStore } from '../../../src/features/idempotency/memory-store.ts';
import { silentLogger } from '../../helpers/gateway.ts';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the event loop, as a paused or overloaded process does: no timer (no renewal) runs meanwhile. */
function stall(ms: number): number {
  const until = Date.now() + ms;
  let spins = 0;
  while (Date.now() < until) spins++;
  return spins;
}

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

  it('a holder whose claim expired and was taken reports unknown, logged; the key keeps the new holder’s answer', async () => {
    const store = new MemoryIdempotencyStore({ ttlMs: 60_000, maxEntries: 100 });
    const logged: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => void logged.push(message) };
    // Two instances' worth of IdempotentCreates on one store, so neither shares the other's promise.
    const a = new IdempotentCreates(store, { claimMs: 60, logger });
    const b = new IdempotentCreates(store, { claimMs: 60 });
    let second: Promise<{ id: string }> | undefined;
    const first = a.run('token:a', 'k', {}, async () => {
      stall(150);
      // The claim has expired unrenewed: another try takes the key and creates too.
      second = b.run('token:a', 'k', {}, async () => ({ id: 'two' }));
      await delay(50);
      return { id: 'one' };
    });
    await expect(first).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      extensions: { reason: 'IDEMPOTENCY_CLAIM_LOST', outcome: 'unknown' },
    });
    expect(await second).toEqual({ id: 'two' });
    expect(logged).toEqual(['idempotency claim lost while creating: outcome reported as unknown']);
    // Only one answer is stored for the key: a retry gets it, without creating.
    expect(await a.run('token:a', 'k', {}, async () => ({ id: 'three' }))).toEqual({ id: 'two' });
  });
});
