import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import {
  createEnforcementClient,
  EnforcementGuard,
  expressEnforcement,
  fastifyEnforcement,
  type EnforcementClient,
  type EnforcementOptions,
  type ExpressLikeRequest,
  type NestLikeRequest,
} from '../../sdk/two-factor-sdk.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { listen, seedUsers, type LocalServer, type SeededUsers } from './sdk-steps.js';

const HOST = 'https://app.example.test';
const PAGES = 'https://2fa.example.test';

/** The host's sign-in, as far as these specs need it: the user id travels in a header. */
const byHeader = <Req extends { headers: Readonly<Record<string, string | string[] | undefined>> }>(request: Req) => {
  const userId = request.headers['x-user'];
  return typeof userId === 'string' ? { userId } : null;
};

interface Answer {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
  readonly cacheControl: string | null;
}

async function send(base: string, path: string, init: { method?: string; user?: string; referer?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.user) headers['x-user'] = init.user;
  if (init.referer) headers['referer'] = init.referer;
  const response = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), body: await response.text(), cacheControl: response.headers.get('cache-control') };
}

/** The hand-off behind a 303, decoded: where it goes and what it carries. */
function handoffOf(answer: Answer): { url: string; claims: Record<string, unknown> } {
  expect(answer.status).toBe(303);
  const location = new URL(answer.location!);
  return { url: `${location.origin}${location.pathname}`, claims: decodeJwt(location.searchParams.get('token')!) };
}

describe('enforcement per request', () => {
  let h: Harness;
  let users: SeededUsers;
  let client: EnforcementClient;

  beforeAll(async () => {
    h = await startHarness();
    const platform = await h.token('host-platform', 'platform');
    users = await seedUsers(h, platform);
    client = createEnforcementClient({ baseUrl: h.url, pagesBaseUrl: PAGES, token: platform, handoff: { secret: TEST_JWT_SECRET }, assertion: { secret: TEST_JWT_SECRET }, hostOrigin: HOST });
  });
  afterAll(() => h.dispose());

  /** The same expectations for every framework: only how a host app is built differs. */
  function behavesLikeEnforcement(start: (options: EnforcementOptions<any>) => Promise<{ url: string; close(): Promise<void> }>): void {
    let app: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      app = await start({ getUser: byHeader, signOutPaths: ['/sign-out'] });
    });
    afterAll(() => app.close());

    it('lets an allowed user through, marked allow', async () => {
      const answer = await send(app.url, '/reports', { user: users.free });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ twoFactor: { action: 'allow' } });
    });

    it('lets a prompted user through, marked for the layout', async () => {
      const answer = await send(app.url, '/reports', { user: users.soft });
      expect(JSON.parse(answer.body)).toMatchObject({ twoFactor: { action: 'prompt', enforcedBy: [{ xeroConnected: true }] } });
    });

    it('sends a hard-enforced GET to the setup hand-off, back to the absolute URL wanted', async () => {
      const answer = await send(app.url, '/reports/42?tab=open', { user: users.hard });
      const { url, claims } = handoffOf(answer);
      expect(url).toBe(`${PAGES}/two-factor/handoff`);
      expect(claims).toMatchObject({ sub: users.hard, purpose: 'setup', aud: 'two-factor-pages', returnTo: `${HOST}/reports/42?tab=open`, signOutUrl: `${HOST}/sign-out` });
      expect(answer.cacheControl).toBe('no-store');
    });

    it('sends a hard-enforced action (POST, DELETE) back to the same-origin page that made it, else home', async () => {
      const fromPage = handoffOf(await send(app.url, '/reports/42/approve', { method: 'POST', user: users.hard, referer: `${HOST}/reports/42` }));
      expect(fromPage.claims['returnTo']).toBe(`${HOST}/reports/42`);
      const foreign = handoffOf(await send(app.url, '/reports/42', { method: 'DELETE', user: users.hard, referer: 'https://evil.example.test/phish' }));
      expect(foreign.claims['returnTo']).toBe(`${HOST}/`);
      const none = handoffOf(await send(app.url, '/reports/42/approve', { method: 'POST', user: users.hard }));
      expect(none.claims['returnTo']).toBe(`${HOST}/`);
    });

    it('keeps a protocol-relative target on the host', async () => {
      const { claims } = handoffOf(await send(app.url, '//evil.example.test/x', { user: users.hard }));
      expect(new URL(claims['returnTo'] as string).origin).toBe(HOST);
    });

    it('never redirects the pages, sign-out, static assets, or anonymous requests', async () => {
      for (const path of ['/two-factor/setup', '/sign-out', '/assets/app.js', '/static/logo.png', '/favicon.ico', '/styles/site.css', '/img/photo.webp']) {
        const answer = await send(app.url, path, { user: users.hard });
        expect({ path, status: answer.status }).toEqual({ path, status: 200 });
        expect(JSON.parse(answer.body).twoFactor ?? null).toBeNull();
      }
      expect((await send(app.url, '/reports')).status).toBe(200);
    });

    it('enforces an action even when its path looks like an asset', async () => {
      expect((await send(app.url, '/styles/site.css', { method: 'POST', user: users.hard })).status).toBe(303);
    });

    it('lets a hard-enforced user with 2FA enabled through', async () => {
      expect((await send(app.url, '/reports', { user: users.enabled })).status).toBe(200);
    });
  }

  describe('the Fastify plugin on a real Fastify instance', () => {
    behavesLikeEnforcement(async (options) => {
      const app: FastifyInstance = Fastify();
      await app.register(fastifyEnforcement, { client, ...options });
      app.all('/*', async (request) => ({ twoFactor: request.twoFactor }));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    });

    it('can run in preHandler, after a session hook of the host', async () => {
      const app = Fastify();
      app.decorateRequest('sessionUser', null);
      app.addHook('preHandler', async (request) => {
        (request as unknown as { sessionUser: string | null }).sessionUser = users.hard;
      });
      await app.register(fastifyEnforcement, { client, hook: 'preHandler', getUser: (request) => ({ userId: (request as unknown as { sessionUser: string }).sessionUser }) });
      app.get('/x', async () => 'reached');
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        expect((await send(url, '/x')).status).toBe(303);
      } finally {
        await app.close();
      }
    });
  });

  describe('the Express middleware on a node:http server (req/res as Express extends them)', () => {
    behavesLikeEnforcement(async (options) => {
      const middleware = expressEnforcement(client, options);
      const server: LocalServer = await listen((req: IncomingMessage, res: ServerResponse) => {
        const request = Object.assign(req, { originalUrl: req.url! }) as IncomingMessage & ExpressLikeRequest;
        const response = Object.assign(res, { locals: {} as Record<string, unknown> });
        middleware(request, response, (error?: unknown) => {
          if (error) return void res.writeHead(500).end(String(error));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ twoFactor: request.twoFactor ?? null, locals: response.locals['twoFactor'] ?? null }));
        });
      });
      return server;
    });

    it('passes a service refusal to next(error)', async () => {
      const broken = createEnforcementClient({ baseUrl: h.url, token: 'not-a-token', handoff: { secret: TEST_JWT_SECRET }, assertion: { secret: TEST_JWT_SECRET }, hostOrigin: HOST });
      const middleware = expressEnforcement(broken, { getUser: byHeader });
      const errors = await new Promise<unknown>((resolve) => {
        const res = { statusCode: 200, setHeader: () => undefined, end: () => undefined };
        middleware({ method: 'GET', url: '/', headers: { 'x-user': users.free } }, res, resolve);
      });
      expect(errors).toMatchObject({ name: 'EnforcementServiceError', status: 401 });
    });
  });

  describe('the NestJS guard', () => {
    function context(request: NestLikeRequest, response: unknown, type = 'http'): ExecutionContext {
      return { getType: () => type, switchToHttp: () => ({ getRequest: () => request, getResponse: () => response, getNext: () => undefined }) } as unknown as ExecutionContext;
    }
    let guard: EnforcementGuard;
    beforeAll(() => {
      guard = new EnforcementGuard(client, { getUser: byHeader });
    });

    it('activates allowed and prompted users, marking the request', async () => {
      const request: NestLikeRequest = { method: 'GET', url: '/reports', headers: { 'x-user': users.soft } };
      expect(await guard.canActivate(context(request, {}))).toBe(true);
      expect(request.twoFactor).toMatchObject({ action: 'prompt' });
    });

    it('answers the 303 itself on the Fastify platform, then refuses the route', async () => {
      const sent: Record<string, unknown> = {};
      const reply = {
        code: (status: number) => ((sent['status'] = status), reply),
        header: (name: string, value: string) => ((sent[name] = value), reply),
        send: () => (sent['sent'] = true),
      };
      expect(await guard.canActivate(context({ method: 'GET', url: '/reports?x=1', headers: { 'x-user': users.hard } }, reply))).toBe(false);
      expect(sent).toMatchObject({ status: 303, 'cache-control': 'no-store', sent: true });
      expect(decodeJwt(new URL(sent['location'] as string).searchParams.get('token')!)).toMatchObject({ returnTo: `${HOST}/reports?x=1`, purpose: 'setup' });
    });

    it('answers the 303 itself on the Express platform (originalUrl, res.locals)', async () => {
      const headers: Record<string, string> = {};
      const res = { statusCode: 200, locals: {} as Record<string, unknown>, setHeader: (n: string, v: string) => (headers[n] = v), end: () => undefined };
      expect(await guard.canActivate(context({ method: 'GET', url: '/x', originalUrl: '/app/x', headers: { 'x-user': users.hard } }, res))).toBe(false);
      expect(res.statusCode).toBe(303);
      expect(decodeJwt(new URL(headers['Location']!).searchParams.get('token')!)['returnTo']).toBe(`${HOST}/app/x`);
      expect(res.locals['twoFactor']).toMatchObject({ action: 'redirect' });
    });

    it('lets the pages, assets and non-HTTP contexts through without asking', async () => {
      expect(await guard.canActivate(context({ method: 'GET', url: '/two-factor/required', headers: { 'x-user': users.hard } }, {}))).toBe(true);
      expect(await guard.canActivate(context({ method: 'GET', url: '/favicon.ico', headers: { 'x-user': users.hard } }, {}))).toBe(true);
      expect(await guard.canActivate(context({ method: 'GET', url: '/', headers: {} }, {}, 'rpc'))).toBe(true);
    });
  });
});
