import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { onFrameworkError } from '../../src/http/framework-errors.js';
import { HotRouteDispatcher } from '../../src/http/hot-route.dispatcher.js';
import { createLogger } from '../../src/infrastructure/logging/pino.logger.js';

/**
 * The enforcement check is served by a Fastify instance of its own on Nest's HTTP server. Each
 * request must reach the instance the one router of both would have chosen: the change feed and
 * every other route stay with the main instance.
 */
describe('hot route dispatch', () => {
  let main: FastifyInstance;
  let dispatcher: HotRouteDispatcher;
  let url: string;

  beforeAll(async () => {
    dispatcher = new HotRouteDispatcher({ logger: false, frameworkErrors: onFrameworkError }, createLogger('silent'));
    dispatcher.fastify.get('/v1/enforcement/:userId', async (request) => ({ served: 'hot', userId: (request.params as { userId: string }).userId }));
    main = Fastify({ logger: false, serverFactory: dispatcher.serverFactory });
    dispatcher.attachTo(main);
    main.get('/v1/enforcement/changes', async () => ({ served: 'main', route: 'changes' }));
    main.get('/v1/enforcement/documents/:userId', async () => ({ served: 'main', route: 'documents' }));
    main.post('/v1/enforcement/:userId', async () => ({ served: 'main', route: 'post' }));
    main.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ served: 'main', route: 'none' }));
    await dispatcher.fastify.ready();
    url = await main.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await main.close();
    await dispatcher.fastify.close();
  });

  const served = async (method: string, path: string): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${url}${path}`, { method });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };

  it('sends a GET of one segment under /v1/enforcement/ to the hot instance', async () => {
    expect(await served('GET', '/v1/enforcement/u1')).toEqual({ status: 200, body: { served: 'hot', userId: 'u1' } });
    expect(await served('GET', '/v1/enforcement/u1?orgId=o1')).toEqual({ status: 200, body: { served: 'hot', userId: 'u1' } });
    expect(await served('HEAD', '/v1/enforcement/u1')).toEqual({ status: 200, body: null });
  });

  it('leaves the main instance its own paths, as its router would match them', async () => {
    for (const path of ['/v1/enforcement/changes', '/v1/enforcement/changes?after=3', '/v1/enforcement/%63hanges', '/v1/enforcement/changes#x']) {
      expect([path, await served('GET', path)]).toEqual([path, { status: 200, body: { served: 'main', route: 'changes' } }]);
    }
    expect(await served('GET', '/v1/enforcement/documents/u1')).toEqual({ status: 200, body: { served: 'main', route: 'documents' } });
    expect(await served('POST', '/v1/enforcement/u1')).toEqual({ status: 200, body: { served: 'main', route: 'post' } });
    for (const path of ['/v1/enforcement/u1/more', '/v1/enforcement/u1/', '/v1/enforcementx/u1', '/v1/other']) {
      expect([path, await served('GET', path)]).toEqual([path, { status: 404, body: { served: 'main', route: 'none' } }]);
    }
  });

  it('takes an absolute-form target as its path (RFC 9112 §3.2.2)', async () => {
    const raw = async (target: string): Promise<string> => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.write(`GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
      await new Promise((resolve) => socket.once('close', resolve));
      return received.slice(received.indexOf('\r\n\r\n') + 4);
    };
    expect(JSON.parse(await raw('http://127.0.0.1/v1/enforcement/u1'))).toEqual({ served: 'hot', userId: 'u1' });
    expect(JSON.parse(await raw('http://127.0.0.1/v1/enforcement/changes'))).toEqual({ served: 'main', route: 'changes' });
  });

  it('answers a segment that does not decode with the hot router\'s 400', async () => {
    const answer = await served('GET', '/v1/enforcement/%zz');
    expect(answer).toMatchObject({ status: 400, body: { code: 'invalid_url' } });
  });

  it('gives the server the timeouts Fastify gives the servers it makes itself', () => {
    expect(main.server.keepAliveTimeout).toBe(72_000);
    expect(main.server.requestTimeout).toBe(0);
  });

  it('refuses a main route that the hot route would shadow', () => {
    const other = Fastify({ logger: false });
    dispatcher.attachTo(other);
    expect(() => other.get('/v1/enforcement/:id', async () => ({}))).toThrow(/shadowed/);
  });

  it('closes the hot instance with the main one, before the main one stops listening', async () => {
    const hot = new HotRouteDispatcher({ logger: false, frameworkErrors: onFrameworkError }, createLogger('silent'));
    const other = Fastify({ logger: false, serverFactory: hot.serverFactory });
    hot.attachTo(other);
    const order: string[] = [];
    hot.fastify.addHook('onClose', async () => void order.push(`hot closed, main listening: ${other.server.listening}`));
    await hot.fastify.ready();
    await other.listen({ host: '127.0.0.1', port: 0 });
    await other.close();
    expect(order).toEqual(['hot closed, main listening: true']);
  });
});
