import 'reflect-metadata';
import { Controller, Get, Module, Post, Req } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeJwt } from 'jose';
import { createEnforcementClient, EnforcementGuard, type EnforcementClient, type NestLikeRequest } from '../../sdk/two-factor-sdk.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { seedUsers, type SeededUsers } from './sdk-steps.js';

const HOST = 'https://app.example.test';

describe('the NestJS guard in a real Nest application (Fastify platform) against the real service', () => {
  let h: Harness;
  let users: SeededUsers;
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
    h = await startHarness();
    const platform = await h.token('host-platform', 'platform');
    users = await seedUsers(h, platform);
    const client: EnforcementClient = createEnforcementClient({ baseUrl: h.url, token: platform, handoff: { secret: TEST_JWT_SECRET }, assertion: { secret: TEST_JWT_SECRET }, hostOrigin: HOST });
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
    await h?.dispose();
  });

  const send = (path: string, user: string, method = 'GET') => fetch(`${url}${path}`, { method, headers: { 'x-user': user }, redirect: 'manual' });

  it('marks a prompted request for the controller', async () => {
    const response = await send('/reports', users.soft);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ twoFactor: { action: 'prompt', enforcedBy: [{ orgId: users.softOrg, xeroConnected: true }] } });
  });

  it('answers a hard-enforced request with the 303 alone: the route does not run and Nest adds nothing', async () => {
    ran.length = 0;
    const page = await send('/reports', users.hard);
    expect(page.status).toBe(303);
    expect(decodeJwt(new URL(page.headers.get('location')!).searchParams.get('token')!)).toMatchObject({ sub: users.hard, purpose: 'setup', returnTo: `${HOST}/reports` });
    expect(await page.text()).toBe('');
    const action = await send('/reports/approve', users.hard, 'POST');
    expect(action.status).toBe(303);
    expect(ran).toEqual([]);
    expect((await send('/reports', users.enabled)).status).toBe(200);
    expect(ran).toEqual(['list']);
  });
});
