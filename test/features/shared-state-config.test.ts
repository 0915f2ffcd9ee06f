import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { startProcess } from '../helpers/process.ts';

describe('shared-state configuration', () => {
  it('defaults: in memory, no rate limit, 10000 idempotency keys per caller', () => {
    const config = loadConfig({});
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisKeyPrefix).toBe('tgw:');
    expect(config.redisTimeoutMs).toBe(500);
    expect(config.rateLimitPerMinute).toBeUndefined();
    expect(config.idempotencyKeysPerCaller).toBe(10_000);
    // As long as a create may take: REQUEST_DEADLINE_MS with the default retries.
    expect(config.idempotencyClaimMs).toBe(30_000);
    expect(config.gatewayTokenLimits).toEqual({});
  });

  it('the per-caller quota never exceeds IDEMPOTENCY_MAX_KEYS', () => {
    expect(loadConfig({ IDEMPOTENCY_MAX_KEYS: '50' }).idempotencyKeysPerCaller).toBe(50);
    expect(loadConfig({ IDEMPOTENCY_KEYS_PER_CALLER: '7' }).idempotencyKeysPerCaller).toBe(7);
  });

  it('GATEWAY_TOKENS takes token:N for a per-token limit per minute', () => {
    const config = loadConfig({ GATEWAY_TOKENS: 'tokA:120, tokB ,tok:C:5', RATE_LIMIT_PER_MINUTE: '60' });
    expect(config.gatewayTokens).toEqual(['tokA', 'tokB', 'tok:C']);
    expect(config.gatewayTokenLimits).toEqual({ tokA: 120, 'tok:C': 5 });
    expect(config.rateLimitPerMinute).toBe(60);
  });

  it.each([
    ['secret-one:', /entry 1: write "token:N"/],
    ['ok,secret-two:abc', /entry 2: write "token:N"/],
    ['secret-three:0', /from 1 to/],
    [':5', /entry 1 has no token/],
    ['same,same:3', /twice/],
  ])('GATEWAY_TOKENS=%s is a ConfigError that never echoes the token', (value, message) => {
    let error: unknown;
    try {
      loadConfig({ GATEWAY_TOKENS: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(message);
    expect(String(error)).not.toContain('secret');
  });

  it('REDIS_URL must be a redis:// or rediss:// URL; RATE_LIMIT_PER_MINUTE a whole number', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:pw@10.0.0.5:6380/2' }).redisUrl).toBe('redis://:pw@10.0.0.5:6380/2');
    expect(() => loadConfig({ REDIS_URL: 'http://10.0.0.5' })).toThrow(/REDIS_URL must use redis/);
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL must be a URL/);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: 'many' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute).toBeUndefined();
  });

  it('a claim shorter than a create may take upstream is refused, and the default follows the deadline', () => {
    expect(() => loadConfig({ IDEMPOTENCY_CLAIM_MS: '10000' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDEMPOTENCY_CLAIM_MS: '10000' })).toThrow(
      /^IDEMPOTENCY_CLAIM_MS=10000 is shorter than a create may take upstream \(30000 ms/,
    );
    // Without retries one attempt bounds a create; with them, the request's deadline does.
    expect(() =>
      loadConfig({ IDEMPOTENCY_CLAIM_MS: '5000', UPSTREAM_MAX_RETRIES: '1', UPSTREAM_TIMEOUT_MS: '2000' }),
    ).toThrow(/shorter than a create may take upstream \(30000 ms/);
    expect(
      loadConfig({ IDEMPOTENCY_CLAIM_MS: '2000', UPSTREAM_MAX_RETRIES: '0', UPSTREAM_TIMEOUT_MS: '2000' })
        .idempotencyClaimMs,
    ).toBe(2_000);
    expect(loadConfig({ IDEMPOTENCY_CLAIM_MS: '5000', REQUEST_DEADLINE_MS: '5000' }).idempotencyClaimMs).toBe(5_000);
    expect(loadConfig({ REQUEST_DEADLINE_MS: '45000' }).idempotencyClaimMs).toBe(45_000);
  });

  it('npm start stops with one line naming IDEMPOTENCY_CLAIM_MS when the claim is too short', async () => {
    const started = startProcess('src/main.ts', {
      PORT: '0',
      LOCAL_BACKEND_STORE: 'memory',
      IDEMPOTENCY_CLAIM_MS: '4000',
    });
    expect(await started.exited).toBe(1);
    const lines = started.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Configuration error: IDEMPOTENCY_CLAIM_MS=4000 is shorter than a create may take/);
  });
});
