import { decodeJwt } from 'jose';
import { FakeClock } from '../../src/kernel/clock.js';
import { startDemoStack, type DemoStack } from '../../examples/demo-stack.js';
import { makeTempDir } from '../support/temp-dir.js';

/** The demo host's own guards (its session, forms and redirects) and the demo's restart, over real HTTP. */
describe('demo host', () => {
  const temp = makeTempDir('tfe-demo-');
  const clock = new FakeClock(new Date());
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({ dataDir: temp.path, port: 0, demoPort: 0, clock, env: { LOG_LEVEL: 'silent' } });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    temp.remove();
  });

  const send = (path: string, init: RequestInit = {}) => fetch(`${stack.demoUrl}${path}`, { redirect: 'manual', ...init });
  const form = (fields: Record<string, string>) => ({ 'content-type': 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() });
  const signIn = async (userId: string): Promise<string> => {
    const { body, ...headers } = form({ userId });
    const response = await send('/sign-in', { method: 'POST', headers: { ...headers, origin: stack.demoUrl }, body });
    expect(response.status).toBe(303);
    return response.headers.get('set-cookie')!.split(';')[0]!;
  };

  it('refuses a sign-in posted from another site', async () => {
    const { body, ...headers } = form({ userId: 'ben' });
    const response = await send('/sign-in', { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses an approval without the session CSRF token or from another origin', async () => {
    const cookie = await signIn('ben');
    const page = await (await send('/approvals', { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const post = (fields: Record<string, string>, origin: string) => {
      const { body, ...headers } = form(fields);
      return send('/approvals/INV-1042/approve', { method: 'POST', headers: { ...headers, cookie, origin }, body });
    };
    expect((await post({ csrf: 'guess' }, stack.demoUrl)).status).toBe(403);
    expect((await post({ csrf }, 'https://evil.example')).status).toBe(403);
    const approved = await post({ csrf }, stack.demoUrl);
    expect(approved.status).toBe(303);
    expect(approved.headers.get('location')).toBe('/approvals?approved=INV-1042');
  });

  it('treats an altered session cookie as no session', async () => {
    const cookie = await signIn('ben');
    const [name, value] = cookie.split('=') as [string, string];
    const payload = Buffer.from(decodeURIComponent(value).split('.')[0]!, 'base64url').toString().replace('"ben"', '"ada"');
    const forged = `${name}=${encodeURIComponent(`${Buffer.from(payload).toString('base64url')}.${decodeURIComponent(value).split('.')[1]}`)}`;
    const response = await send('/approvals', { headers: { cookie: forged } });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/sign-in');
  });

  it('keeps hand-off return addresses on the host', async () => {
    const cookie = await signIn('ben');
    for (const returnTo of ['//evil.example/x', 'https://evil.example/x', '/settings']) {
      const response = await send(`/account/two-factor/setup?returnTo=${encodeURIComponent(returnTo)}`, { headers: { cookie } });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      const claims = decodeJwt(location.searchParams.get('token')!);
      expect(new URL(String(claims['returnTo'])).origin).toBe(stack.demoUrl);
    }
  });

  it('opens the console for back-office staff with their roles, and for an admin from Settings', async () => {
    const staffForm = (staffId: string, origin: string) => {
      const { body, ...headers } = form({ staffId });
      return send('/staff/console', { method: 'POST', headers: { ...headers, origin }, body });
    };
    expect((await staffForm('sam', 'https://evil.example')).status).toBe(403);
    expect((await staffForm('nobody', stack.demoUrl)).status).toBe(404);
    for (const [staffId, roles] of [['sam', ['support']], ['avery', ['auditor']]] as const) {
      const response = await staffForm(staffId, stack.demoUrl);
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(`${stack.serviceUrl}/two-factor/handoff`);
      expect(decodeJwt(location.searchParams.get('token')!)).toMatchObject({ sub: staffId, purpose: 'console', roles });
      const landing = await fetch(location, { redirect: 'manual' });
      expect({ status: landing.status, location: landing.headers.get('location') }).toEqual({ status: 303, location: '/console' });
    }
    const cookie = await signIn('ada');
    expect(await (await send('/settings', { headers: { cookie } })).text()).toContain('href="/account/two-factor/console?returnTo=/settings"');
    const admin = await send('/account/two-factor/console?returnTo=/settings', { headers: { cookie } });
    expect(decodeJwt(new URL(admin.headers.get('location')!).searchParams.get('token')!)).toMatchObject({ sub: 'ada', purpose: 'console' });
  });

  it('refuses a second-factor return without a sign-in waiting for it', async () => {
    const response = await send('/sign-in/two-factor?tfa=anything');
    expect(response.status).toBe(403);
  });

  it('starts again on the same data: same people, same enrolled key, no error', async () => {
    const key = stack.secrets.enrolledKeys['cleo'];
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    await stack.stop();
    stack = await startDemoStack({ dataDir: temp.path, port: 0, demoPort: 0, clock, env: { LOG_LEVEL: 'silent' } });
    expect(stack.secrets.enrolledKeys['cleo']).toBe(key);
    expect(stack.backupCodes).toEqual({});
    const decision = await fetch(`${stack.serviceUrl}/v1/enforcement/cleo`, { headers: { authorization: `Bearer ${await stack.platformToken()}` } });
    expect(await decision.json()).toMatchObject({ twoFactorEnabled: true, action: 'allow' });
  }, 60_000);
});
