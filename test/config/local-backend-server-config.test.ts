import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadLocalBackendServerConfig } from '../../src/config/config.ts';
import { type Started, startProcess } from '../helpers/process.ts';

describe('npm run local-backend configuration', () => {
  let started: Started | undefined;
  afterEach(() => {
    started?.child.kill('SIGKILL');
    started = undefined;
  });

  it('listens on 127.0.0.1:4010 and accepts any key by default', () => {
    expect(loadLocalBackendServerConfig({ LOCAL_BACKEND_STORE: 'memory' })).toMatchObject({
      host: '127.0.0.1',
      port: 4010,
      apiKeys: [],
      store: { kind: 'memory' },
    });
  });

  it('reads LOCAL_BACKEND_HOST, LOCAL_BACKEND_PORT and LOCAL_BACKEND_API_KEYS', () => {
    const config = loadLocalBackendServerConfig({
      LOCAL_BACKEND_HOST: '0.0.0.0',
      LOCAL_BACKEND_PORT: '8080',
      LOCAL_BACKEND_API_KEYS: 'key-a, key-b,',
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, apiKeys: ['key-a', 'key-b'] });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a port out of range with a ConfigError naming it', () => {
    expect(() => loadLocalBackendServerConfig({ LOCAL_BACKEND_PORT: '65536' })).toThrow(
      new ConfigError('LOCAL_BACKEND_PORT must be between 0 and 65535, got 65536'),
    );
  });

  it('stops with one line naming the variable', async () => {
    started = startProcess('src/local-backend/main.ts', { LOCAL_BACKEND_PORT: 'http' });
    expect(await started.exited).toBe(1);
    expect(started.output().trim().split('\n')).toEqual([
      'Configuration error: LOCAL_BACKEND_PORT must be a whole number, got "http"',
    ]);
  });
});
