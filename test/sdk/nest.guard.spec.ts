import 'reflect-metadata';
import { Controller, Get, Module, Post, Req } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeJwt } from 'jose';
import { createEnforcementClient, EnforcementGuard, type EnforcementClient, type NestLikeRequest } from '../../sdk/two-factor-sdk.js';
import { listen, type LocalServer } from './sdk-steps.js';

const HOST = 'https://app.example.test';
const SECRET = 'nest-guard-spec-secret-0123456789abcdef-0123';
const DECISIONS: Record<string, object> = {
  soft: { requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [{ orgId: 'x', mode: 'soft', xeroConnected: true }] },
  hard: { requirement: 'hard', action: 'redirect', twoFactorEnabled: false, enforcedBy: [{ orgId: 'h', mode: 'hard', xeroConnected: false }] },
  enabled: { requirement: 'hard', action: 'allow', twoFactorEnabled: true, enforcedBy: [{ orgId: 'h', mode: 'hard', xeroConnected: false }] },
};

/**
 * The decisions come from a loopback stand-in of GET /v1/enforcement (answers as the service's
 * contract says): the real service and a second Nest application do not share one Jest module
 * registry here. The client and guard against the real service: enforcement.middleware.spec.ts.
 */
describe('the NestJS guard in a real Nest application (Fastify platform)', () => {
  let service: LocalServer;
  const users = { soft: 'soft', hard: 'hard', enabled: 'enabled' };
  let app: NestFastifyApplication;
  let url: string;
  const ran: string[] = [];

  @Controller()
  class ReportsController {
    @Get('reports')
    list(@Req() request: NestLikeRequest) {
      ran.push('list');
      return { twoFactor: request.twoFactor ?? null };
    }

    @Post('reports/approve')
    approve() {
      ran.push('approve');
      return { approved: true };
    }
  }

  beforeAll(async () => {
    service = await listen((req, res) => {
      const userId = /^\/v1\/enforcement\/([^?]+)/.exec(req.url ?? '')?.[1] ?? '';
      const decision = req.headers.authorization === 'Bearer platform-token' ? DECISIONS[userId] : undefined;
      res.writeHead(decision ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(decision ?? { status: 404 }));
    });
    const client: EnforcementClient = createEnforcementClient({ baseUrl: service.url, token: 'platform-token', handoff: { secret: SECRET }, assertion: { secret: SECRET }, hostOrigin: HOST });
    const guard = new EnforcementGuard(client, {
      getUser: (request) => {
        const userId = request.headers['x-user'];
        return typeof userId === 'string' ? { userId } : null;
      },
    });
    @Module({ controllers: [ReportsController], providers: [{ provide: APP_GUARD, useValue: guard }] })
    class HostModule {}
    app = await NestFactory.create<NestFastifyApplication>(HostModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  const send = (path: string, user: string, method = 'GET') => fetch(`${url}${path}`, { method, headers: { 'x-user': user }, redirect: 'manual' });

  it('marks a prompted request for the controller', async () => {
    const response = await send('/reports', users.soft);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ twoFactor: { action: 'prompt' } });
  });

  it('answers a hard-enforced request with the 303 alone: the route does not run and Nest adds nothing', async () => {
    ran.length = 0;
    const page = await send('/reports', users.hard);
    expect(page.status).toBe(303);
    expect(decodeJwt(new URL(page.headers.get('location')!).searchParams.get('token')!)).toMatchObject({ purpose: 'setup', returnTo: `${HOST}/reports` });
    expect(await page.text()).toBe('');
    const action = await send('/reports/approve', users.hard, 'POST');
    expect(action.status).toBe(303);
    expect(ran).toEqual([]);
    expect((await send('/reports', users.enabled)).status).toBe(200);
    expect(ran).toEqual(['list']);
  });
});
