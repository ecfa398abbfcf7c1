import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * A stop that waits only for requests in flight. Fastify's close asks Node to close idle
 * connections, but Node leaves one that never sent a request (an HTTP client's or a browser's
 * pre-connect, or a pooled socket Node's fetch keeps after an aborted stream) and one whose last
 * answer ends after that call; the server's close then waits on them until the keep-alive timeout
 * (72 s), past any orchestrator's grace period. Here, from `preClose` on, every connection is
 * closed as soon as it serves nothing: at once when idle, after its answer otherwise. The service
 * listens on plain HTTP (TLS ends at the proxy), so a request's socket is its connection's.
 */
export function drainConnectionsOnClose(fastify: FastifyInstance): void {
  const server: Server = fastify.server;
  const inFlight = new Map<Socket, number>();
  let closing = false;

  const closeIfIdle = (socket: Socket): void => {
    if (closing && (inFlight.get(socket) ?? 0) === 0) socket.destroySoon();
  };
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
    closeIfIdle(socket);
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, inFlight.get(socket)! - 1);
      closeIfIdle(socket);
    });
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    for (const socket of inFlight.keys()) closeIfIdle(socket);
    done();
  });
}
