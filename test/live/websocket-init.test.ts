import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';

/**
 * A connection_init that reached the gateway while its event loop was busy past the protocol's
 * 3 s init timeout is read before the timeout is applied: the client is acknowledged, not closed
 * with 4408 for the gateway's own delay.
 */
it('acknowledges a connection_init that waited behind a busy event loop', async () => {
  const gateway = testGateway();
  const served = await serveGateway(gateway);
  try {
    const ws = new WebSocket(served.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const outcome = new Promise<string>((resolve) => {
      ws.on('message', (data) => resolve(JSON.parse(String(data)).type));
      ws.on('close', (code) => resolve(`closed ${code}`));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init' }));
    // The gateway (in this process) is kept busy past its 3 s init timeout, with the message sent.
    const until = Date.now() + 3_300;
    while (Date.now() < until) {
      // Busy: no timer and no socket read runs meanwhile.
    }
    expect(await outcome).toBe('connection_ack');
    ws.close();
  } finally {
    await served.close();
    await gateway.close();
  }
});
