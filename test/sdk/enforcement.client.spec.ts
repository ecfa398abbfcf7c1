import { decodeJwt, jwtVerify } from 'jose';
import { createEnforcementClient, EnforcementServiceError, type EnforcementClientOptions } from '../../sdk/two-factor-sdk.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { listen, seedUsers, switchableProxy, type SeededUsers } from './sdk-steps.js';

const HOST = 'https://app.example.test';

describe('the SDK client against the real service', () => {
  let h: Harness;
  let platform: string;
  let users: SeededUsers;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    users = await seedUsers(h, platform);
  });
  afterAll(() => h.dispose());

  const options = (overrides: Partial<EnforcementClientOptions> = {}): EnforcementClientOptions => ({
    baseUrl: h.url,
    token: platform,
    handoff: { secret: TEST_JWT_SECRET },
    assertion: { secret: TEST_JWT_SECRET },
    hostOrigin: HOST,
    ...overrides,
  });

  describe('decide', () => {
    it('allows a user no organisation asks for 2FA', async () => {
      expect(await createEnforcementClient(options()).decide(users.free)).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [], deadline: null, exemptUntil: null });
    });

    it('prompts a member of a Xero-connected organisation, and names the organisation', async () => {
      const decision = await createEnforcementClient(options()).decide(users.soft);
      expect(decision).toEqual({ requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [{ orgId: users.softOrg, mode: 'soft', xeroConnected: true }], deadline: null, exemptUntil: null });
    });

    it('redirects a member of a hard organisation, in its context too', async () => {
      const client = createEnforcementClient(options());
      expect(await client.decide(users.hard)).toMatchObject({ requirement: 'hard', action: 'redirect' });
      expect(await client.decide(users.hard, users.hardOrg)).toMatchObject({ action: 'redirect', enforcedBy: [{ orgId: users.hardOrg, mode: 'hard' }] });
    });

    it('allows a hard-enforced user with 2FA enabled', async () => {
      expect(await createEnforcementClient(options()).decide(users.enabled)).toMatchObject({ requirement: 'hard', action: 'allow', twoFactorEnabled: true });
    });

    it('takes the token from an async function, asked per request', async () => {
      let asked = 0;
      const client = createEnforcementClient(options({ token: async () => (asked++, platform) }));
      await client.decide(users.free);
      await client.decide(users.soft);
      expect(asked).toBe(2);
    });

    it('allows a user the service does not know (404), without calling it degraded', async () => {
      const client = createEnforcementClient(options());
      expect(await client.decide('nobody-known-here')).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [] });
      expect(await client.decide(users.free, users.hardOrg)).not.toHaveProperty('degraded');
    });

    it('throws a typed error on a refused token (401) and on a bad id (400): the host must see those', async () => {
      const refused = createEnforcementClient(options({ token: 'not-a-token' }));
      await expect(refused.decide(users.free)).rejects.toMatchObject({ name: 'EnforcementServiceError', status: 401 });
      const userToken = createEnforcementClient(options({ token: await h.token('someone-else') }));
      await expect(userToken.decide(users.free)).rejects.toBeInstanceOf(EnforcementServiceError);
      await expect(createEnforcementClient(options()).decide('bad id!')).rejects.toMatchObject({ status: 400 });
    });

    it('never sends the token anywhere but the Authorization header of the service', async () => {
      const client = createEnforcementClient(options({ token: 'not-a-token' }));
      const error = await client.decide(users.free).catch((e: unknown) => e);
      expect(String((error as Error).message)).not.toContain('not-a-token');
    });
  });

  describe('when the service cannot answer', () => {
    it('fails closed for a user last seen as redirect, open (degraded) for the prompt and for unknown users, within the timeout', async () => {
      const proxy = await switchableProxy(h.url);
      const degradedEvents: string[] = [];
      const client = createEnforcementClient(options({ baseUrl: proxy.url, timeoutMs: 200, onDegraded: (e) => degradedEvents.push(`${e.reason}:${e.action}`) }));
      try {
        expect((await client.decide(users.hard)).action).toBe('redirect');
        expect((await client.decide(users.soft)).action).toBe('prompt');
        proxy.mode = 'hang';
        const started = Date.now();
        expect(await client.decide(users.hard)).toMatchObject({ action: 'redirect', requirement: 'hard', degraded: true });
        expect(await client.decide(users.soft)).toMatchObject({ action: 'allow', degraded: true });
        expect(await client.decide(users.free)).toMatchObject({ action: 'allow', degraded: true });
        expect(Date.now() - started).toBeLessThan(3000);
        expect(degradedEvents).toEqual(['timeout:redirect', 'timeout:allow', 'timeout:allow']);
        proxy.mode = 'fail';
        expect(await client.decide(users.hard)).toMatchObject({ action: 'redirect', degraded: true });
        expect(await client.decide(users.soft)).toMatchObject({ action: 'allow', degraded: true });
        proxy.mode = 'forward';
        expect(await client.decide(users.hard)).not.toHaveProperty('degraded');
      } finally {
        await proxy.close();
      }
    });

    it('keeps the last known twoFactorEnabled in a degraded decision, so a sign-in still sends a user with 2FA to the challenge', async () => {
      const proxy = await switchableProxy(h.url);
      const client = createEnforcementClient(options({ baseUrl: proxy.url, timeoutMs: 200 }));
      try {
        expect(await client.decide(users.enabled)).toMatchObject({ action: 'allow', twoFactorEnabled: true });
        proxy.mode = 'fail';
        expect(await client.decide(users.enabled)).toMatchObject({ action: 'allow', twoFactorEnabled: true, degraded: true });
        expect(await client.decide(users.free)).toMatchObject({ action: 'allow', twoFactorEnabled: false, degraded: true });
      } finally {
        await proxy.close();
      }
    });

    it('remembers decisions per organisation context', async () => {
      const proxy = await switchableProxy(h.url);
      const client = createEnforcementClient(options({ baseUrl: proxy.url, timeoutMs: 200 }));
      try {
        expect((await client.decide(users.hard, users.hardOrg)).action).toBe('redirect');
        proxy.mode = 'fail';
        expect((await client.decide(users.hard, users.hardOrg)).action).toBe('redirect');
        expect((await client.decide(users.hard)).action).toBe('allow');
      } finally {
        await proxy.close();
      }
    });

    it('forgets the least recently used users beyond cacheSize', async () => {
      const proxy = await switchableProxy(h.url);
      const client = createEnforcementClient(options({ baseUrl: proxy.url, timeoutMs: 200, cacheSize: 1 }));
      try {
        await client.decide(users.hard);
        await client.decide(users.free);
        proxy.mode = 'fail';
        expect((await client.decide(users.hard)).action).toBe('allow');
      } finally {
        await proxy.close();
      }
    });

    it("fails closed for everyone with whenUnavailable: 'redirect'", async () => {
      const silent = await listen(() => undefined);
      try {
        const client = createEnforcementClient(options({ baseUrl: silent.url, timeoutMs: 150, whenUnavailable: 'redirect' }));
        expect(await client.decide(users.free)).toMatchObject({ action: 'redirect', degraded: true });
      } finally {
        await silent.close();
      }
    });

    it('treats a redirect as a broken answer and does not follow it with the token', async () => {
      let followed = false;
      const elsewhere = await listen((req, res) => {
        followed = true;
        res.writeHead(200).end(String(req.headers.authorization));
      });
      const redirecting = await listen((_req, res) => void res.writeHead(302, { location: `${elsewhere.url}/steal` }).end());
      try {
        const client = createEnforcementClient(options({ baseUrl: redirecting.url, timeoutMs: 500 }));
        expect(await client.decide(users.soft)).toMatchObject({ action: 'allow', degraded: true });
        expect(followed).toBe(false);
      } finally {
        await redirecting.close();
        await elsewhere.close();
      }
    });

    it('treats a refused connection like an outage', async () => {
      const gone = await listen(() => undefined);
      await gone.close();
      const client = createEnforcementClient(options({ baseUrl: gone.url, timeoutMs: 500 }));
      expect(await client.decide(users.soft)).toMatchObject({ action: 'allow', degraded: true });
    });
  });

  describe('handoffUrl', () => {
    it('signs a five-minute, single-use hand-off to the pages with the API secret', async () => {
      const client = createEnforcementClient(options({ pagesBaseUrl: 'https://2fa.example.test/' }));
      const url = new URL(await client.handoffUrl({ userId: users.hard, purpose: 'setup', returnTo: `${HOST}/reports?x=1`, orgId: users.hardOrg, roles: ['support'], signOutUrl: `${HOST}/sign-out` }));
      expect(`${url.origin}${url.pathname}`).toBe('https://2fa.example.test/two-factor/handoff');
      const token = url.searchParams.get('token')!;
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET), { audience: 'two-factor-pages' });
      expect(protectedHeader.alg).toBe('HS256');
      expect(payload).toMatchObject({ sub: users.hard, purpose: 'setup', returnTo: `${HOST}/reports?x=1`, orgId: users.hardOrg, roles: ['support'], signOutUrl: `${HOST}/sign-out` });
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
      expect(Buffer.from(payload.jti!, 'base64url')).toHaveLength(16);
      const again = decodeJwt(new URL(await client.handoffUrl({ userId: users.hard, purpose: 'setup', returnTo: HOST })).searchParams.get('token')!);
      expect(again.jti).not.toBe(payload.jti);
      expect(again).not.toHaveProperty('orgId');
    });

    it('names the issuer the service checks (AUTH_ISSUER) when given one', async () => {
      const client = createEnforcementClient(options({ handoff: { secret: TEST_JWT_SECRET, issuer: 'https://idp.example.test' } }));
      const token = new URL(await client.handoffUrl({ userId: 'u1', purpose: 'manage', returnTo: HOST })).searchParams.get('token')!;
      expect(decodeJwt(token).iss).toBe('https://idp.example.test');
      expect(decodeJwt(new URL(await createEnforcementClient(options()).handoffUrl({ userId: 'u1', purpose: 'manage', returnTo: HOST })).searchParams.get('token')!)).not.toHaveProperty('iss');
    });

    it('defaults the pages to the service and hands the claims to a custom signer', async () => {
      const seen: unknown[] = [];
      const client = createEnforcementClient(options({ handoff: { sign: (claims) => (seen.push(claims), 'signed-elsewhere') } }));
      expect(await client.handoffUrl({ userId: 'u1', purpose: 'verify', returnTo: `${HOST}/after` })).toBe(`${h.url}/two-factor/handoff?token=signed-elsewhere`);
      expect(seen).toEqual([expect.objectContaining({ sub: 'u1', aud: 'two-factor-pages', purpose: 'verify', returnTo: `${HOST}/after` })]);
    });

    it('refuses a relative or script returnTo, an unknown purpose, and a lifetime beyond ten minutes', async () => {
      const client = createEnforcementClient(options());
      await expect(client.handoffUrl({ userId: 'u1', purpose: 'setup', returnTo: '/relative' })).rejects.toThrow(TypeError);
      await expect(client.handoffUrl({ userId: 'u1', purpose: 'setup', returnTo: 'javascript:alert(1)' })).rejects.toThrow(/http/);
      await expect(client.handoffUrl({ userId: 'u1', purpose: 'admin' as never, returnTo: HOST })).rejects.toThrow(/purpose/);
      expect(() => createEnforcementClient(options({ handoffTtlSeconds: 601 }))).toThrow(/handoffTtlSeconds/);
    });
  });
});
