import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.js';

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A second listener that serves only GET /metrics, without a token, for a Prometheus scraper. It
 * binds to loopback by default (METRICS_HOST): opening it wider is the operator's explicit choice.
 */
export async function startMetricsServer(render: () => string, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
      return;
    }
    const problem = new Problem(404, 'route_not_found', 'This port serves GET /metrics only.');
    response.writeHead(404, { 'content-type': PROBLEM_CONTENT_TYPE }).end(JSON.stringify(problem.body()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { url: urlOf(server), close: () => closeServer(server) };
}

function urlOf(server: Server): string {
  const { address, family, port } = server.address() as AddressInfo;
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
