import { connect, type Socket } from 'node:net';
import { startHarness } from '../support/http-harness.js';

/**
 * A stop waits for the requests in flight and for nothing else. Before connection-drain.ts, a
 * connection that served nothing at that moment could hold the stop until Fastify's keep-alive
 * timeout (72 s): past the test timeout here, past an orchestrator's grace period in production.
 */
describe('stopping the service', () => {
  it('closes a connection that never sent a request, and stops', async () => {
    const h = await startHarness();
    try {
      const socket = await open(h.url);
      const closed = closedByServer(socket);

      await h.stop();
      await closed;
      expect(socket.destroyed).toBe(true);
    } finally {
      await h.dispose();
    }
  });

  it('closes a kept-alive connection once its request was answered, and answers that request in full', async () => {
    const h = await startHarness();
    try {
      const socket = await open(h.url);
      const closed = closedByServer(socket);
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.write('GET /health/live HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n');
      for (let wait = 0; wait < 200 && !received.includes('\r\n\r\n'); wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toMatch(/^HTTP\/1\.1 200 /);

      await h.stop();
      await closed;
      expect(socket.destroyed).toBe(true);
    } finally {
      await h.dispose();
    }
  });
});

function open(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closedByServer(socket: Socket): Promise<void> {
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve()));
}
