import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Type } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { AppModule } from './app.module.js';
import { MetricsRegistry } from '../health/metrics.registry.js';
import type { Runtime } from './runtime.js';
import { NestLoggerBridge } from '../http/nest-logger.bridge.js';
import { mountSwaggerUi } from '../http/api-docs.js';
import { acceptJsonBodiesOnly, onClientError, onFrameworkError } from '../http/framework-errors.js';
import { drainConnectionsOnClose } from '../http/connection-drain.js';
import { completeOpenApiDocument } from '../http/openapi.document.js';
import { API_ROUTES } from './api-contract.js';
import { HotRouteDispatcher } from '../http/hot-route.dispatcher.js';

export interface HttpApp {
  readonly app: NestFastifyApplication;
  /** Base URL once listening, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the Nest application on Fastify, with every edge concern (limits, errors, logs, docs). */
// Feature modules are passed as classes: a module imported by another (pages import users) is then one instance, not two.
export async function createHttpApp(runtime: Runtime, features: readonly Type[]): Promise<NestFastifyApplication> {
  const metrics = new MetricsRegistry();
  // Both Fastify instances of the server (see HotRouteDispatcher) route, limit and refuse alike.
  const shared = {
    bodyLimit: runtime.config.BODY_LIMIT_BYTES,
    logger: false,
    trustProxy: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    frameworkErrors: onFrameworkError,
  } as const;
  const hotRoutes = new HotRouteDispatcher(shared, runtime.logger);
  const adapter = new FastifyAdapter({ ...shared, serverFactory: hotRoutes.serverFactory, clientErrorHandler: onClientError });
  hotRoutes.attachTo(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(runtime, metrics, features, hotRoutes), adapter, {
    logger: new NestLoggerBridge(runtime.logger),
    abortOnError: false,
    // Fastify's own JSON parser only; Nest's would add form bodies (see acceptJsonBodiesOnly).
    bodyParser: false,
  });
  configureFastify(app.getHttpAdapter().getInstance(), hotRoutes, runtime, metrics);
  mountOpenApi(app);
  await app.init();
  await hotRoutes.fastify.ready();
  return app;
}

export async function listen(app: NestFastifyApplication, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

function configureFastify(fastify: FastifyInstance, hotRoutes: HotRouteDispatcher, runtime: Runtime, metrics: MetricsRegistry): void {
  acceptJsonBodiesOnly(fastify, ['/two-factor/', '/console/']);
  drainConnectionsOnClose(fastify);
  const countRequest = metrics.counter('http_requests_total', 'HTTP requests by route template, method and status', ['method', 'route', 'status']);
  countAndLogRequests(fastify, runtime, countRequest);
  countAndLogRequests(hotRoutes.fastify, runtime, countRequest);
  const rss = (): number => process.memoryUsage().rss;
  metrics.gauge('process_resident_memory_bytes', 'Resident set size', rss);
}

// A callback hook, not an async one, and the log line built only when it is written: this runs
// for every request, the enforcement check's hot path included.
function countAndLogRequests(fastify: FastifyInstance, runtime: Runtime, countRequest: (method: string, route: string, status: number) => void): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    countRequest(request.method, route, reply.statusCode);
    if (runtime.logger.isLevelEnabled('info')) {
      runtime.logger.info(
        { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), requestId: request.id },
        'request',
      );
    }
    done();
  });
}

function mountOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Two-factor enforcement service')
    .setDescription('Enforcement policy, TOTP factors, reminders and audit trail. Errors are RFC 9457 problem details.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer')
    .build();
  SwaggerModule.setup('docs', app, () => completeOpenApiDocument(SwaggerModule.createDocument(app, config), API_ROUTES), { ui: false, raw: ['json'], jsonDocumentUrl: 'docs/openapi.json' });
  mountSwaggerUi(app.getHttpAdapter().getInstance());
}
