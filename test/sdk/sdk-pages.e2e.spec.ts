import { createEnforcementClient, type EnforcementClient } from '../../sdk/two-factor-sdk.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { codeAt, enableTwoFactor, registerUser } from '../http/http-steps.js';
import { seedUsers, type SeededUsers } from './sdk-steps.js';

/**
 * The SDK and the service's pages together, over real HTTP as a browser without JavaScript
 * would go: the SDK's hand-off opens a session, the verify page sends back an assertion, the SDK
 * accepts it once. (The same story in Chromium runs through the demo host.)
 */
const HOST = 'http://host.test:3001';
const SERVICE_NAME = 'http://two-factor.test';

class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async get(url: string): Promise<{ status: number; location: string | null; text: string }> {
    return this.send(url.startsWith('http') ? url : `${this.base}${url}`, { method: 'GET' });
  }

  async post(path: string, form: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    return this.send(`${this.base}${path}`, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.base } });
  }

  private async send(url: string, init: { method: string; body?: string; headers?: Record<string, string> }) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }
}

function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]*)"/.exec(page);
  if (!match) throw new Error('no CSRF field on the page');
  return match[1]!.replace(/&amp;/g, '&');
}

describe('the SDK with the service pages', () => {
  let h: Harness;
  let platform: string;
  let users: SeededUsers;
  let client: EnforcementClient;

  beforeAll(async () => {
    h = await startHarness({ env: { PAGES_RETURN_ORIGINS: HOST, APP_BASE_URL: SERVICE_NAME } });
    platform = await h.token('host-platform', 'platform');
    users = await seedUsers(h, platform);
    client = createEnforcementClient({
      baseUrl: h.url,
      token: platform,
      handoff: { secret: TEST_JWT_SECRET },
      assertion: { secret: TEST_JWT_SECRET },
      // The service names itself by APP_BASE_URL's origin, which here is not the address it listens on.
      assertionIssuer: SERVICE_NAME,
      hostOrigin: HOST,
    });
  });
  afterAll(() => h.dispose());

  it('signs a user in through the verify page and accepts the assertion once', async () => {
    const userId = await registerUser(h, platform);
    const { secret } = await enableTwoFactor(h, platform, userId);
    const browser = new Browser(h.url);
    const landing = await browser.get(await client.handoffUrl({ userId, purpose: 'verify', returnTo: `${HOST}/signed-in?next=%2Freports` }));
    expect(landing.status).toBe(303);
    const page = await browser.get(landing.location!);
    expect(page.status).toBe(200);
    const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
    expect(answer.status).toBe(303);
    const back = new URL(answer.location!);
    expect(`${back.origin}${back.pathname}`).toBe(`${HOST}/signed-in`);
    expect(back.searchParams.get('next')).toBe('/reports');
    const tfa = back.searchParams.get('tfa')!;
    expect(await client.verifyAssertion(tfa, { userId })).toMatchObject({ userId, amr: ['otp'] });
    await expect(client.verifyAssertion(tfa, { userId })).rejects.toMatchObject({ name: 'TwoFactorAssertionError', code: 'replayed' });
  });

  it('sends a hard-enforced user from the middleware hand-off to the required page; a reused hand-off gets the error page', async () => {
    const url = await client.handoffUrl({ userId: users.hard, purpose: 'setup', returnTo: `${HOST}/reports` });
    const browser = new Browser(h.url);
    const landing = await browser.get(url);
    expect(landing.status).toBe(303);
    expect(new URL(landing.location!, h.url).pathname).toBe('/two-factor/required');
    const reused = await new Browser(h.url).get(url);
    expect(reused.status).toBeGreaterThanOrEqual(400);
    expect(reused.text).toMatch(/<html/i);
    expect(reused.text).toContain(HOST);
  });

  it('refuses a hand-off back to an origin the service does not know', async () => {
    const foreign = await new Browser(h.url).get(await client.handoffUrl({ userId: users.soft, purpose: 'setup', returnTo: 'https://evil.example.test/' }));
    expect(foreign.status).toBeGreaterThanOrEqual(400);
    expect(foreign.text).not.toContain('evil.example.test');
  });
});
