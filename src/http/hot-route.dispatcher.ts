import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerFactory, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { routeNotFound, sendProblem, toProblem } from './problem.filter.js';
import type { Logger } from '../ports/logger.port.js';

/** Everything the dispatcher sends to the hot instance lies under this prefix, one path segment deep. */
const PREFIX = '/v1/enforcement/';

/**
 * The enforcement check runs on every page load of every host: it is served by a Fastify instance
 * of its own on the same HTTP server as Nest's. Nest's adapter adds six request hooks and a
 * response hook at the root of its instance, and middie one more; Fastify runs root hooks for every
 * route, and nine no-op hooks cost a bare route 10-25 % of its throughput on this machine
 * (docs/performance.md). The hot instance has only the request metrics hook the main one has.
 *
 * The server's request handler sends a GET or HEAD of `/v1/enforcement/<one segment>` here, unless
 * the main instance has a route of that exact path (the change feed): what the one router of both
 * would have chosen, since find-my-way prefers a static route to a parametric one. The hot instance
 * closes when the main one does, just before it, so both answer 503 from then on.
 */
export class HotRouteDispatcher {
  readonly fastify: FastifyInstance;
  /** The main instance's static GET paths one segment under the prefix, without it. */
  private readonly mainSegments = new Set<string>();

  /** `options`: the main instance's own routing, limits and refusals, so that both answer alike. */
  constructor(options: FastifyServerOptions, logger: Logger) {
    let requests = 0;
    this.fastify = Fastify({
      ...options,
      // The main instance numbers its requests req-1, req-2…: a log line's id names one request of the process.
      genReqId: () => `hot-${(++requests).toString(36)}`,
    });
    this.fastify.setNotFoundHandler((_request, reply) => sendProblem(reply, routeNotFound()));
    this.fastify.setErrorHandler((error, _request, reply) => sendProblem(reply, toProblem(error, logger)));
  }

  /** Keeps track of the main instance's routes, and closes with it; called before any route is added. */
  attachTo(main: FastifyInstance): void {
    main.addHook('onRoute', (route: RouteOptions) => this.noteMainRoute(route));
    main.addHook('preClose', async () => this.fastify.close());
  }

  /** The HTTP server for Fastify's `serverFactory`, with the settings Fastify gives the servers it makes itself. */
  readonly serverFactory: FastifyServerFactory = (mainHandler, options) => {
    const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
      if (this.isHot(request)) this.fastify.routing(request, response);
      else mainHandler(request, response);
    });
    server.keepAliveTimeout = options['keepAliveTimeout'] as number;
    server.requestTimeout = options['requestTimeout'] as number;
    server.setTimeout(options['connectionTimeout'] as number);
    const perSocket = options['maxRequestsPerSocket'] as number;
    if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
    return server;
  };

  private isHot(request: IncomingMessage): boolean {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const target = request.url ?? '';
    const url = target.charCodeAt(0) === 47 ? target : originForm(target);
    if (!url.startsWith(PREFIX)) return false;
    const segment = segmentAfterPrefix(url);
    return segment !== null && !this.mainSegments.has(segment);
  }

  private noteMainRoute(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('GET') || !route.url.startsWith(PREFIX)) return;
    const rest = route.url.slice(PREFIX.length);
    if (rest.includes('/')) return;
    // A parametric segment here would be shadowed by the hot route for every request.
    if (rest.includes(':') || rest.includes('*')) throw new Error(`route ${route.url} would be shadowed by the enforcement check`);
    this.mainSegments.add(rest);
  }
}

/** The path of an absolute-form target (RFC 9112 §3.2.2: a server must accept it), as the router takes it. */
function originForm(target: string): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  return authority ? target.slice(authority[0].length) : target;
}

/**
 * The single segment after the prefix as the router would compare it (the query and fragment cut
 * off, percent-decoding applied), or null for a deeper path. A segment that does not decode goes
 * to the hot instance, whose router answers it 400 as the main one would.
 */
function segmentAfterPrefix(url: string): string | null {
  let end = url.length;
  for (let i = PREFIX.length; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code === 63 || code === 35) {
      end = i;
      break;
    }
    if (code === 47) return null;
  }
  const raw = url.slice(PREFIX.length, end);
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
