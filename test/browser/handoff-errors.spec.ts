import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Page, Response } from 'playwright-core';
import { originOf, pathOf, review, startBrowserStack, type BrowserStack } from '../support/browser-harness.js';

/** Hand-offs that must not sign anyone in end on an HTML error page with a way back, never JSON or a stack trace. */
describe('hand-off errors in Chromium', () => {
  let env: BrowserStack;
  beforeAll(async () => {
    env = await startBrowserStack();
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const handoff = async (overrides: { returnTo?: string; secret?: string; ttlSeconds?: number } = {}): Promise<string> => {
    const now = Math.floor(env.clock.now().getTime() / 1000);
    const token = await new SignJWT({ purpose: 'setup', returnTo: overrides.returnTo ?? `${env.stack.demoUrl}/approvals`, signOutUrl: `${env.stack.demoUrl}/sign-out` })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('ada')
      .setAudience('two-factor-pages')
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(now)
      .setExpirationTime(now + (overrides.ttlSeconds ?? 300))
      .sign(new TextEncoder().encode(overrides.secret ?? env.stack.secrets.authJwtSecret));
    return `${env.stack.serviceUrl}/two-factor/handoff?token=${encodeURIComponent(token)}`;
  };

  const expectErrorPage = async (page: Page, response: Response | null, name: string) => {
    expect(response?.status()).toBeGreaterThanOrEqual(400);
    expect(response?.status()).toBeLessThan(500);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(originOf(page.url())).toBe(env.stack.serviceUrl);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/^\s*[{[]/);
    expect(text).not.toMatch(/\bat .+\.(js|ts):\d+/);
    expect(await page.locator('a[href]').count()).toBeGreaterThan(0);
    await review(page, name);
  };

  it('an expired hand-off shows the error page', async () => {
    const page = await env.newPage();
    const url = await handoff({ ttlSeconds: 300 });
    env.clock.advance(6 * 60_000);
    try {
      await expectErrorPage(page, await page.goto(url), 'handoff-01-expired');
    } finally {
      env.clock.advance(-6 * 60_000);
    }
  }, 30_000);

  it('a hand-off used twice shows the error page the second time', async () => {
    const url = await handoff();
    const first = await env.newPage();
    await first.goto(url);
    expect(originOf(first.url())).toBe(env.stack.serviceUrl);
    expect(pathOf(first)).toMatch(/^\/two-factor\/(setup|required)$/);
    const second = await env.newPage();
    await expectErrorPage(second, await second.goto(url), 'handoff-02-reused');
  }, 30_000);

  it('a hand-off whose returnTo is on a foreign origin shows the error page', async () => {
    const page = await env.newPage();
    await expectErrorPage(page, await page.goto(await handoff({ returnTo: 'https://evil.example/collect' })), 'handoff-03-foreign-return');
  }, 30_000);

  it('a forged hand-off shows the error page', async () => {
    const page = await env.newPage();
    await expectErrorPage(page, await page.goto(await handoff({ secret: 'not-the-service-secret-0123456789abcdef' })), 'handoff-04-forged');
  }, 30_000);
});
