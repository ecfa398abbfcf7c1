import type { FastifyInstance } from 'fastify';
import type { Harness } from './http-harness.js';
import { HotRouteDispatcher } from '../../src/http/hot-route.dispatcher.js';

/** One route the running app registers: a method and its path template, as Fastify knows it. */
export interface RegisteredRoute {
  readonly method: string;
  readonly path: string;
}

export function routeKey(route: RegisteredRoute): string {
  return `${route.method} ${route.path}`;
}

/** The Fastify instances that serve the harness's application: Nest's, and the enforcement check's own. */
function fastifyInstancesOf(h: Harness): FastifyInstance[] {
  const app = h.service.app;
  if (!app) throw new Error('the harness runs no HTTP application');
  return [app.getHttpAdapter().getInstance() as FastifyInstance, app.get(HotRouteDispatcher).fastify];
}

/** Every route the harness's application serves, whichever of its Fastify instances serves it. */
export function servedRoutes(h: Harness): RegisteredRoute[] {
  return fastifyInstancesOf(h).flatMap(registeredRoutes).sort((a, b) => routeKey(a).localeCompare(routeKey(b)));
}

/** Whether one of the application's Fastify instances serves this method and path template. */
export function serves(h: Harness, route: RegisteredRoute): boolean {
  return fastifyInstancesOf(h).some((fastify) => fastify.hasRoute({ method: route.method as never, url: route.path }));
}

const TREE_LINE = /^((?:[│ ]   |[├└]── )*)(.+?)(?: \(([A-Z, ]+)\))?$/u;

/**
 * Every route of the running app, read from Fastify's own route tree (the app is already built when
 * the harness returns, so an onRoute hook would come too late). HEAD twins that Fastify adds to GET
 * routes are left out: they are not routes anyone wrote. Each parsed route is checked back with
 * hasRoute, so a change in the tree's print format fails loudly instead of hiding routes.
 */
function registeredRoutes(fastify: FastifyInstance): RegisteredRoute[] {
  const stack: string[] = [];
  const routes: RegisteredRoute[] = [];
  for (const line of fastify.printRoutes({ commonPrefix: false }).split('\n')) {
    if (line.trim() === '') continue;
    const match = TREE_LINE.exec(line);
    if (!match) throw new Error(`unexpected route tree line: ${line}`);
    const depth = [...match[1]!].length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const methods = (match[3] ?? '').split(', ').filter((method) => method !== '');
    const path = stack.join('');
    for (const method of methods) {
      if (method === 'HEAD' && methods.includes('GET')) continue;
      routes.push({ method, path });
    }
  }
  for (const route of routes) {
    if (!fastify.hasRoute({ method: route.method as never, url: route.path })) throw new Error(`parsed a route Fastify does not have: ${routeKey(route)}`);
  }
  if (routes.length === 0) throw new Error('no route found in the route tree');
  return routes;
}
