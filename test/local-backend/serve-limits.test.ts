import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/local-backend/backend.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';

const headers = {
  authorization: 'Bearer sk-local',
  'openai-beta': 'assistants=v2',
  'content-type': 'application/json',
};

describe('the local backend on a port: request body limit', () => {
  let served: Awaited<ReturnType<typeof serveLocalBackend>>;
  beforeEach(async () => {
    served = await serveLocalBackend(createLocalBackend(), { maxBodyBytes: 4096 });
  });
  afterEach(() => served.close());

  it('answers a body over the limit 413 with a Threads error body, and serves on', async () => {
    const big = JSON.stringify({ metadata: { a: 'x'.repeat(5000) } });
    const refused = await fetch(`${served.url}/threads`, { method: 'POST', headers, body: big });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'request_too_large' },
    });
    const fine = await fetch(`${served.url}/threads`, { method: 'POST', headers, body: '{}' });
    expect(fine.status).toBe(200);
  });

  it('stops reading a chunked body without a length at the limit, and does not buffer the rest', async () => {
    const url = new URL(`${served.url}/threads`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // 64 MiB announced by nobody: the server must answer long before it would have read it all.
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });
});
