import { describe, expect, it } from 'vitest';
import { testGateway } from '../helpers/gateway.ts';

describe('/ready names the dependency that is down', () => {
  it('Redis unreachable: ready stays true (only keyed creates are refused), the body says redis is down', async () => {
    // A port nothing listens on: the connection is refused at once.
    const gateway = testGateway({ REDIS_URL: 'redis://:s3cret-pass@127.0.0.1:9/0', REDIS_TIMEOUT_MS: '200' });
    try {
      const response = await gateway.yoga.fetch('http://gateway.test/ready');
      const body = (await response.json()) as { ready: boolean; dependenciesDown: string[]; sharedState: string };
      expect(response.status).toBe(200);
      expect(body.dependenciesDown).toEqual(['redis']);
      expect(body.sharedState).toMatch(/^redis: unreachable/);
      expect(JSON.stringify(body)).not.toContain('s3cret-pass');
    } finally {
      await gateway.close();
    }
  });

  it('without REDIS_URL: no dependency is down', async () => {
    const gateway = testGateway();
    const body = (await (await gateway.yoga.fetch('http://gateway.test/ready')).json()) as Record<string, unknown>;
    expect(body.ready).toBe(true);
    expect(body.dependenciesDown).toEqual([]);
  });
});
