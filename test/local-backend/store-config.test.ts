import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadLocalBackendConfig } from '../../src/config/config.ts';

describe('local backend storage configuration', () => {
  it('defaults to SQLite in ./data with a 1 GiB quota and a 2 MiB body limit', () => {
    expect(loadLocalBackendConfig({})).toEqual({
      store: { kind: 'sqlite', dataDir: './data' },
      maxBytes: 1024 ** 3,
      maxBodyBytes: 2 * 1024 ** 2,
      runs: { model: {}, timeoutMs: 600_000 },
    });
    expect(loadConfig({}).localBackend.store).toEqual({ kind: 'sqlite', dataDir: './data' });
  });

  it('picks PostgreSQL with DATABASE_URL, memory with LOCAL_BACKEND_STORE, and DATA_DIR for SQLite', () => {
    expect(loadLocalBackendConfig({ DATABASE_URL: 'postgres://app@db:5432/threads' }).store).toEqual({
      kind: 'postgres',
      url: 'postgres://app@db:5432/threads',
    });
    expect(loadLocalBackendConfig({ LOCAL_BACKEND_STORE: 'memory' })).toMatchObject({
      store: { kind: 'memory' },
      maxBytes: 64 * 1024 ** 2,
    });
    expect(loadLocalBackendConfig({ DATA_DIR: '/var/lib/threads', LOCAL_BACKEND_MAX_BYTES: '5000' })).toMatchObject({
      store: { kind: 'sqlite', dataDir: '/var/lib/threads' },
      maxBytes: 5000,
    });
  });

  it.each([
    [{ LOCAL_BACKEND_STORE: 'mongo' }, /LOCAL_BACKEND_STORE must be one of sqlite, memory, postgres/],
    [{ LOCAL_BACKEND_STORE: 'postgres' }, /needs DATABASE_URL/],
    [
      { LOCAL_BACKEND_STORE: 'memory', DATABASE_URL: 'postgres://x/y' },
      /DATABASE_URL is set but LOCAL_BACKEND_STORE=memory/,
    ],
    [{ DATABASE_URL: 'mysql://x/y' }, /DATABASE_URL must be a postgres/],
    [{ LOCAL_BACKEND_MAX_BYTES: '10' }, /LOCAL_BACKEND_MAX_BYTES must be between/],
    [{ LOCAL_BACKEND_MAX_BODY_BYTES: 'lots' }, /LOCAL_BACKEND_MAX_BODY_BYTES must be a whole number/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
