import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startProcess } from '../helpers/process.ts';
import { startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

describe('npm start (src/main.ts)', () => {
  let started: Started | undefined;
  let upstream: TestUpstream | undefined;
  afterEach(async () => {
    started?.child.kill('SIGKILL');
    await upstream?.close();
    started = undefined;
    upstream = undefined;
  });

  it('names the GraphQL address, not GraphiQL, when the GraphiQL page is off; requests Node cannot parse get codes', async () => {
    started = startProcess('src/main.ts', { PORT: '0', GRAPHIQL: 'false' });
    const [, url] = await started.waitFor(/GraphQL at (http:\/\/127\.0\.0\.1:\d+\/graphql) \(the GraphiQL page is off/);
    expect(started.output()).not.toContain('GraphiQL at');
    const page = await fetch(url ?? '', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(406);
    // A request Node's parser refuses is answered with a code too, not a bare status line.
    const long = await fetch(`${url}?query=${encodeURIComponent(`{ ${'__typename '.repeat(3_000)}}`)}`);
    expect(long.status).toBe(431);
    expect(
      ((await long.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
    ).toBe('HEADERS_TOO_LARGE');
    const target = new URL(url ?? '');
    const garbled = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () =>
        socket.write('GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbled).toContain('"code":"BAD_REQUEST"');
    // Clients that keep their side open are not kept: once the answer is out, the server closes
    // its end (no file descriptor held per client until some timeout).
    const descriptors = () => readdirSync(`/proc/${started?.child.pid}/fd`).length;
    const before = descriptors();
    const silent = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true }, () =>
              socket.write('GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
            );
            socket.resume();
            socket.on('end', () => resolve(socket));
          }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(descriptors() - before).toBeLessThan(5);
    for (const socket of silent) socket.destroy();
    // After an answer on the connection, a garbled request gets no second answer spliced after it.
    const pipelined = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () =>
        socket.write(`GET /health HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (chunk) => {
        if (!text) setTimeout(() => socket.write('GARBAGE\r\n\r\n'), 50);
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(pipelined.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200']);
  });

  it('serves the local backend with no key and no network, saying so in one line, and GraphiQL offline', async () => {
    started = startProcess('src/main.ts', { PORT: '0' });
    const [, url] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    expect(started.output().match(/embedded local backend/g)).toHaveLength(1);
    const page = await fetch(url ?? '', { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Threads GraphQL gateway');
    // Every script is inline: nothing is loaded from a CDN.
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
    const created = await fetch(url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { createThread { id } }' }),
    });
    expect(((await created.json()) as { data: { createThread: { id: string } } }).data.createThread.id).toMatch(
      /^thread_/,
    );
    // Mounted through the gateway's request listener: a target Yoga cannot read is a coded 400, no stack.
    const target = new URL(url ?? '');
    const absolute = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () =>
        socket.write(`GET http://evil.example/graphql HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`),
      );
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(absolute).toContain('"BAD_REQUEST"');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    upstream = await startTestUpstream(async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { forward: true };
    });
    started = startProcess('src/main.ts', { PORT: '0', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    const [, url] = await started.waitFor(/GraphiQL at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    await started.waitFor(/upstream ready/);
    const inFlight = fetch(url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { createThread { id } }' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    started.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { createThread: { id: string } } }).data.createThread.id).toMatch(
      /^thread_/,
    );
    expect(await started.exited).toBe(0);
    await expect(fetch(url ?? '')).rejects.toThrow();
  });

  it('logs clearly when OPENAI_BASE_URL does not serve the Threads API', async () => {
    upstream = await startTestUpstream(() => ({ status: 404, body: '<h1>Not Found</h1>' }), { handleProbes: true });
    started = startProcess('src/main.ts', { PORT: '0', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    const [line] = await started.waitFor(/.*UPSTREAM NOT USABLE.*/);
    // UPSTREAM_API=auto: the URL answers like neither API.
    expect(line).toContain('no-known-api');
    expect(upstream.count('POST')).toBe(0);
  });

  it('refuses to start with a server key on a public HOST and no gateway tokens', async () => {
    started = startProcess('src/main.ts', { PORT: '0', HOST: '0.0.0.0', OPENAI_API_KEY: 'sk-secret-value-1234' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/Configuration error: Refusing .*GATEWAY_TOKENS/);
    expect(started.output()).not.toContain('sk-secret-value-1234');
  });

  it('stops with a clear message on a bad value', async () => {
    started = startProcess('src/main.ts', { PORT: 'abc' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('Configuration error: PORT must be a whole number, got "abc"');
  });

  it('npm run local-backend serves the backend on its own and prints its URL', async () => {
    started = startProcess('src/local-backend/main.ts', { LOCAL_BACKEND_PORT: '0' });
    const [, url] = await started.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+\/v1)/);
    const response = await fetch(`${url}/threads`, {
      method: 'POST',
      headers: { authorization: 'Bearer any', 'openai-beta': 'assistants=v2', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await response.json()) as { object: string }).object).toBe('thread');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });
});
