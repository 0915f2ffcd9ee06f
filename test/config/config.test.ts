import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

describe('configuration from the environment', () => {
  it('defaults to the embedded local backend on 127.0.0.1:4000', () => {
    const config = loadConfig({});
    expect(config.upstream).toEqual({ kind: 'local' });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(4000);
    expect(config.upstreamConcurrency).toBe(10);
    expect(config.upstreamTimeoutMs).toBe(10_000);
    expect(config.upstreamMaxRetries).toBe(2);
    expect(config.limits.bodyBytes).toBe(1024 * 1024);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('uses a server key at api.openai.com by default, or at OPENAI_BASE_URL', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-a' }).upstream).toEqual({
      kind: 'server-key',
      apiKey: 'sk-a',
      baseURL: 'https://api.openai.com/v1',
    });
    expect(
      loadConfig({ OPENAI_API_KEY: 'sk-a', OPENAI_BASE_URL: 'http://threads.internal:8080/v1/' }).upstream,
    ).toEqual({
      kind: 'server-key',
      apiKey: 'sk-a',
      baseURL: 'http://threads.internal:8080/v1',
    });
  });

  it('passes callers’ keys through when only OPENAI_BASE_URL is set', () => {
    expect(loadConfig({ OPENAI_BASE_URL: 'https://threads.example/v1' }).upstream).toEqual({
      kind: 'pass-through',
      baseURL: 'https://threads.example/v1',
    });
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ UPSTREAM_CONCURRENCY: '0' }, /UPSTREAM_CONCURRENCY must be between 1/],
    [{ UPSTREAM_TIMEOUT_MS: '-5' }, /UPSTREAM_TIMEOUT_MS must be a whole number/],
    [{ OPENAI_BASE_URL: 'not a url' }, /OPENAI_BASE_URL must be an absolute http\(s\) URL/],
    [{ OPENAI_BASE_URL: 'ftp://x/v1' }, /OPENAI_BASE_URL must use http or https/],
    [{ OPENAI_BASE_URL: 'https://user:pw@x/v1' }, /must not carry/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ GATEWAY_ALLOW_ANONYMOUS: 'maybe' }, /GATEWAY_ALLOW_ANONYMOUS must be "true" or "false"/],
    [{ CORS_ORIGINS: 'example.com' }, /CORS_ORIGINS entries must be origins/],
  ];
  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env)} with a clear message`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  it('refuses a server key on a non-loopback HOST without gateway tokens, unless allowed', () => {
    expect(() => loadConfig({ OPENAI_API_KEY: 'sk-a', HOST: '0.0.0.0' })).toThrow(/GATEWAY_TOKENS/);
    expect(loadConfig({ OPENAI_API_KEY: 'sk-a', HOST: '0.0.0.0', GATEWAY_TOKENS: 't1,t2' }).gatewayTokens).toEqual([
      't1',
      't2',
    ]);
    expect(
      loadConfig({ OPENAI_API_KEY: 'sk-a', HOST: '0.0.0.0', GATEWAY_ALLOW_ANONYMOUS: 'true' }).allowAnonymous,
    ).toBe(true);
    expect(loadConfig({ OPENAI_API_KEY: 'sk-a', HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ OPENAI_API_KEY: 'sk-a', HOST: '::1' }).host).toBe('::1');
  });
});
