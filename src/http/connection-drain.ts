import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * Until the stop, a request costs one map entry: the enforcement check runs through here.
 */
export function drainConnectionsOnClose(fastify: FastifyInstance): void {
  /** Each open connection's latest response, whose state at the stop says whether it serves anything. */
  const latest = new Map<Socket, ServerResponse | null>();
  let closing = false;

  const closeWhenDone = (socket: Socket, response: ServerResponse | null): void => {
    if (response === null || response.writableFinished || response.destroyed) socket.destroySoon();
    else response.once('close', () => socket.destroySoon());
  };
  fastify.server.on('connection', (socket: Socket) => {
    latest.set(socket, null);
    socket.once('close', () => latest.delete(socket));
    if (closing) socket.destroySoon();
  });
  fastify.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    latest.set(request.socket, response);
    if (closing) closeWhenDone(request.socket, response);
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    for (const [socket, response] of latest) closeWhenDone(socket, response);
    done();
  });
}
