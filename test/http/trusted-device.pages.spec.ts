import { jwtVerify } from 'jose';
import { clearedDeviceCookie, browserLabel } from '../../src/pages/device.cookie.js';
import { cookieNaming } from '../../src/pages/page.session.js';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { csrfOf, HOST_ORIGIN, PageClient, PAGES_ENV, type PageResponse } from '../support/page-client.js';
import { STRINGS } from '../../src/pages/pages.strings.js';
import { codeAt, enableTwoFactor, registerUser, STEP_MS } from './http-steps.js';

/** "Remember this device" on the pages over real HTTP: the cookie, the one-click continue, the manage list. */
describe('trusted devices on the pages', () => {
  let h: Harness;
  let platform: string;
  const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

  beforeAll(async () => {
    h = await startHarness({ env: { ...PAGES_ENV, RATE_LIMIT_PER_USER: '1000' } });
    platform = await h.token('platform-1', 'platform');
  });
  afterAll(() => h.dispose());

  async function userWithFactor(): Promise<{ userId: string; secret: string }> {
    const userId = await registerUser(h, platform);
    const { secret } = await enableTwoFactor(h, await h.token(userId), userId);
    return { userId, secret };
  }

  async function amrOf(answer: PageResponse): Promise<unknown> {
    expect(answer.status).toBe(303);
    const { payload } = await jwtVerify(new URL(answer.location!).searchParams.get('tfa')!, new TextEncoder().encode(TEST_JWT_SECRET), { audience: HOST_ORIGIN, currentDate: h.clock.now() });
    return payload['amr'];
  }

  async function rememberedBrowser(userId: string, secret: string): Promise<{ browser: PageClient; answer: PageResponse }> {
    const browser = new PageClient(h);
    const page = await browser.handoff({ sub: userId, purpose: 'verify' });
    expect(page.text).toContain(STRINGS.verify.remember(30));
    const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: codeAt(h, secret), remember: 'yes' }, { headers: { 'user-agent': CHROME } });
    h.clock.advance(STEP_MS);
    return { browser, answer };
  }

  const failures = async (userId: string) => (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'TwoFactorVerificationFailed').length;

  it('sets an HttpOnly, SameSite=Lax device cookie on the pages\' path until the expiry, and continues with it in one click', async () => {
    const { userId, secret } = await userWithFactor();
    const { browser, answer } = await rememberedBrowser(userId, secret);
    expect(await amrOf(answer)).toEqual(['otp']);
    const cookies = answer.headers.getSetCookie();
    expect(cookies.some((c) => c.startsWith('tfa_pages='))).toBe(true);
    const device = cookies.find((c) => c.startsWith('tfa_device='))!;
    expect(device.split('; ').slice(1)).toEqual(['Path=/two-factor', `Max-Age=${30 * 86_400}`, 'HttpOnly', 'SameSite=Lax']);

    const page = await browser.handoff({ sub: userId, purpose: 'verify' });
    expect(page.text).toContain('name="method" value="device"');
    expect(await amrOf(await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), method: 'device' }))).toEqual(['device']);
  });

  it('never offers nor accepts one user\'s device cookie for another user, and counts nothing against them', async () => {
    const alice = await userWithFactor();
    const bob = await userWithFactor();
    const { browser } = await rememberedBrowser(alice.userId, alice.secret);
    const page = await browser.handoff({ sub: bob.userId, purpose: 'verify' });
    expect(page.text).not.toContain('name="method" value="device"');
    const refused = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), method: 'device' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain(STRINGS.verify.deviceRefused);
    expect(await failures(bob.userId)).toBe(0);
  });

  it('lists the device on the manage page as this browser and forgets it there, clearing the cookie', async () => {
    const { userId, secret } = await userWithFactor();
    const { browser } = await rememberedBrowser(userId, secret);
    const manage = await browser.handoff({ sub: userId, purpose: 'manage' });
    expect(manage.text).toContain('Chrome on Linux');
    expect(manage.text).toContain(STRINGS.manage.thisDevice);
    const deviceId = /data-device-id="([^"]+)"/.exec(manage.text)![1]!;
    const forgotten = await browser.post('/two-factor/manage/devices/revoke', { csrf: csrfOf(manage.text), deviceId });
    expect(forgotten.status).toBe(200);
    expect(forgotten.text).toContain(STRINGS.manage.deviceForgotten);
    expect(forgotten.text).toContain(STRINGS.manage.noDevices);
    expect(forgotten.headers.getSetCookie().some((c) => /^tfa_device=;.*Max-Age=0/.test(c))).toBe(true);
    expect(browser.cookie('tfa_device')).toBeUndefined();
    const again = await browser.post('/two-factor/manage/devices/revoke', { csrf: csrfOf(manage.text), deviceId });
    expect(again.text).toContain(STRINGS.manage.deviceGone);
    const page = await browser.handoff({ sub: userId, purpose: 'verify' });
    expect(page.text).not.toContain('name="method" value="device"');
  });

  it('falls back to the code when the device was revoked elsewhere, clearing the cookie; that try counts like a wrong code', async () => {
    const { userId, secret } = await userWithFactor();
    const { browser } = await rememberedBrowser(userId, secret);
    const devices = await h.call('GET', `/v1/users/${userId}/two-factor/devices`, { token: await h.token(userId) });
    expect((await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${devices.body.items[0].id}`, { token: await h.token('support-1', 'support') })).status).toBe(200);
    const page = await browser.handoff({ sub: userId, purpose: 'verify' });
    const refused = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), method: 'device' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain(STRINGS.verify.deviceRefused);
    expect(refused.text).toContain('name="code"');
    expect(browser.cookie('tfa_device')).toBeUndefined();
    expect(await failures(userId)).toBe(1);
  });

  it('names the cookie __Secure- and marks it Secure over HTTPS; labels browsers by name', () => {
    expect(clearedDeviceCookie(cookieNaming('https://2fa.example.com'))).toBe('__Secure-tfa_device=; Path=/two-factor; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
    expect(browserLabel(CHROME)).toBe('Chrome on Linux');
    expect(browserLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')).toBe('Safari on iOS');
    expect(browserLabel(undefined)).toBeNull();
  });
});
