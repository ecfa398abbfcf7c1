import { createLocalJWKSet, jwtVerify } from 'jose';
import { startHarness, TEST_JWT_SECRET, type Harness } from '../support/http-harness.js';
import { attribute, attributes, csrfOf, handoffToken, HOST_ORIGIN, PageClient, PAGES_ENV, type PageResponse } from '../support/page-client.js';
import { generateTotpCode } from '../../src/two-factor/totp.js';
import { STRINGS } from '../../src/pages/pages.strings.js';
import { codeAt, enableTwoFactor, registerOrg, registerUser, setMember, STEP_MS, wrongCode } from './http-steps.js';

/** Whether the page's code form is rendered with its controls disabled (a lockout in force). */
function lockedControls(page: string): boolean {
  return /<fieldset class="code-controls" disabled>[\s\S]*?id="code"[\s\S]*?<button type="submit"[\s\S]*?<\/fieldset>/.test(page);
}

/** The ids of the code fields the page renders inside a disabled fieldset, in page order. */
function disabledCodeForms(page: string): string[] {
  return [...page.matchAll(/<fieldset class="code-controls" disabled>[\s\S]*?<input class="code-input" id="([a-z-]+)"/g)].map((match) => match[1]!);
}

/** DESIGN §8 through real HTTP: hand-off, session, CSRF, the pages and the `tfa` assertion. */

describe('pages', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ...PAGES_ENV, RATE_LIMIT_PER_USER: '1000' } });
    platform = await h.token('platform-1', 'platform');
  });
  afterAll(() => h.dispose());

  async function newUser(): Promise<string> {
    return registerUser(h, platform);
  }

  function expectErrorPage(page: PageResponse, status: number): void {
    expect(page.status).toBe(status);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain(`<h1>${STRINGS.titles.errorFor(status)}</h1>`);
    expect(page.text).not.toMatch(/at .*\.(ts|js):\d+/);
  }

  function expectPageHeaders(page: PageResponse): void {
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    for (const script of page.text.match(/<script[^>]*>/g) ?? []) expect(script).toContain(`nonce="${nonce}"`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain(`form-action 'self' ${HOST_ORIGIN}`);
    expect(page.text).not.toMatch(/<style|style="/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.text).toMatch(/^<!doctype html>\n<html lang="en">/);
  }

  async function setUp(browser: PageClient, userId: string): Promise<{ secret: string; codes: string[] }> {
    const page = await browser.handoff({ sub: userId, purpose: 'setup' });
    const secret = attribute(page.text, 'data-manual-key')!;
    const done = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: generateTotpCode({ secret, at: h.clock.now() }) });
    expect(done.status).toBe(200);
    h.clock.advance(STEP_MS);
    return { secret, codes: attributes(done.text, 'data-backup-code') };
  }

  describe('hand-off', () => {
    it.each([
      ['setup', '/two-factor/setup'],
      ['verify', '/two-factor/verify'],
      ['manage', '/two-factor/manage'],
      // A plain user has no console: the page is the 403 "not allowed" one (test/http/console.spec.ts).
      ['console', '/console', 403],
    ])('%s lands on its page with a fresh HttpOnly, SameSite=Lax session cookie', async (purpose, path, status = 200) => {
      const browser = new PageClient(h);
      const answer = await browser.get(`/two-factor/handoff?token=${await handoffToken(h, { sub: await newUser(), purpose })}`);
      expect(answer.status).toBe(303);
      expect(answer.location).toBe(path);
      const cookie = answer.headers.getSetCookie()[0]!;
      expect(cookie).toMatch(/^tfa_pages=[^;]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Lax$/);
      const page = await browser.get(path);
      expect(page.status).toBe(status);
      expectPageHeaders(page);
    });

    it('works as a form post too', async () => {
      const browser = new PageClient(h);
      const answer = await browser.post('/two-factor/handoff', { token: await handoffToken(h, { sub: await newUser(), purpose: 'manage' }) }, { origin: HOST_ORIGIN });
      expect(answer.status).toBe(303);
      expect(answer.location).toBe('/two-factor/manage');
    });

    it('rotates the session: a second hand-off gets another cookie', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      await browser.handoff({ sub: userId, purpose: 'manage' });
      const first = browser.cookie('tfa_pages');
      await browser.handoff({ sub: userId, purpose: 'manage' });
      expect(browser.cookie('tfa_pages')).not.toBe(first);
    });

    it('sends a hard-enforced user who asks for setup to /two-factor/required, naming the organisation and Xero', async () => {
      const orgId = await registerOrg(h, platform, 'Hard & <Co>');
      const userId = await newUser();
      expect((await setMember(h, platform, orgId, userId, 'member')).status).toBe(200);
      expect((await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-1' } })).status).toBe(200);
      const mode = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' } });
      expect(mode.status).toBe(200);
      await h.call('GET', `/v1/enforcement/${userId}?minPosition=${mode.body.position}`, { token: platform });
      const browser = new PageClient(h);
      const answer = await browser.get(`/two-factor/handoff?token=${await handoffToken(h, { sub: userId, purpose: 'setup' })}`);
      expect(answer.location).toBe('/two-factor/required');
      const page = await browser.get('/two-factor/required');
      expect(page.status).toBe(200);
      expectPageHeaders(page);
      expect(page.text).toContain('Hard &#38; &#60;Co&#62;');
      expect(page.text).toContain('Xero');
      expect(page.text).toContain('href="/two-factor/setup"');
      const signOut = await browser.post('/two-factor/signout', { csrf: csrfOf(page.text) });
      expect(signOut.status).toBe(303);
      expect(signOut.location).toBe(`${HOST_ORIGIN}/`);
      expect(browser.cookie('tfa_pages')).toBeUndefined();
    });

    it.each([
      ['expired', { lifetimeSeconds: 300, issuedAt: () => Math.floor(h.clock.now().getTime() / 1000) - 400 }, 401, true],
      ['too long-lived', { lifetimeSeconds: 11 * 60 }, 401, true],
      ['for another audience', { aud: 'api' }, 401, false],
      ['of an unknown purpose', { purpose: 'admin' }, 401, true],
      ['with a foreign returnTo', { returnTo: 'https://evil.test/steal' }, 403, false],
      ['with a relative returnTo', { returnTo: '/after' }, 403, false],
      ['with a foreign signOutUrl', { signOutUrl: 'https://evil.test/' }, 403, true],
    ] as const)('refuses a hand-off %s with an HTML error page', async (_, claims, status, linksBack) => {
      const { issuedAt, ...rest } = claims as { issuedAt?: () => number };
      const token = await handoffToken(h, { sub: 'someone', ...rest, ...(issuedAt ? { issuedAt: issuedAt() } : {}) });
      const page = await new PageClient(h).get(`/two-factor/handoff?token=${token}`);
      expectErrorPage(page, status);
      expectPageHeaders(page);
      expect(page.headers.getSetCookie()).toEqual([]);
      expect(page.text.includes(`href="${HOST_ORIGIN}"`) || page.text.includes(`href="${HOST_ORIGIN}/"`)).toBe(linksBack);
      expect(page.text).not.toContain('evil.test');
    });

    it('refuses a forged hand-off (another secret) and a reused one', async () => {
      const forged = await handoffToken(h, { sub: 'someone' }, new TextEncoder().encode('another-secret-another-secret-0123456789'));
      expectErrorPage(await new PageClient(h).get(`/two-factor/handoff?token=${forged}`), 401);
      const token = await handoffToken(h, { sub: await newUser(), purpose: 'manage' });
      expect((await new PageClient(h).get(`/two-factor/handoff?token=${token}`)).status).toBe(303);
      const reused = await new PageClient(h).get(`/two-factor/handoff?token=${token}`);
      expectErrorPage(reused, 401);
      expect(reused.text).toContain('already been used');
      expect(reused.text).toContain(`href="${HOST_ORIGIN}"`);
      expectErrorPage(await new PageClient(h).get('/two-factor/handoff?token=not.a.jwt'), 401);
      expectErrorPage(await new PageClient(h).get('/two-factor/handoff'), 400);
    });
  });

  describe('session and forms', () => {
    it('answers a page without a session with the 401 error page', async () => {
      for (const path of ['/two-factor/setup', '/two-factor/required', '/two-factor/verify', '/two-factor/manage', '/two-factor/console']) {
        expectErrorPage(await new PageClient(h).get(path), 401);
      }
    });

    it('refuses an altered cookie', async () => {
      const browser = new PageClient(h);
      await browser.handoff({ sub: await newUser(), purpose: 'manage' });
      const cookie = browser.cookie('tfa_pages')!;
      browser.setCookie('tfa_pages', cookie.slice(0, -4) + (cookie.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
      expectErrorPage(await browser.get('/two-factor/manage'), 401);
    });

    it('ends a session after 30 idle minutes, and slides while used', async () => {
      const browser = new PageClient(h);
      await browser.handoff({ sub: await newUser(), purpose: 'manage' });
      h.clock.advance(20 * 60_000);
      expect((await browser.get('/two-factor/manage')).status).toBe(200);
      h.clock.advance(20 * 60_000);
      expect((await browser.get('/two-factor/manage')).status).toBe(200);
      h.clock.advance(31 * 60_000);
      expectErrorPage(await browser.get('/two-factor/manage'), 401);
    });

    it('refuses a post without the CSRF token, with a wrong one, or from another origin (403)', async () => {
      const browser = new PageClient(h);
      const page = await browser.handoff({ sub: await newUser(), purpose: 'verify' });
      const csrf = csrfOf(page.text);
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456' }), 403);
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456', csrf: `${csrf}x` }), 403);
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456', csrf }, { origin: HOST_ORIGIN }), 403);
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456', csrf }, { origin: null }), 403);
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456', csrf }, { origin: 'null', headers: { 'sec-fetch-site': 'cross-site' } }), 403);
      const other = new PageClient(h);
      const otherPage = await other.handoff({ sub: await newUser(), purpose: 'verify' });
      expectErrorPage(await browser.post('/two-factor/verify', { code: '123456', csrf: csrfOf(otherPage.text) }), 403);
    });
  });

  it('accepts a post from its own no-referrer page, which Chromium sends with Origin: null and Sec-Fetch-Site: same-origin', async () => {
    const browser = new PageClient(h);
    const page = await browser.handoff({ sub: await newUser(), purpose: 'setup' });
    const answer = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: '12ab' }, { origin: 'null', headers: { 'sec-fetch-site': 'same-origin' } });
    expect(answer.status).toBe(422);
    expect(answer.text).toContain('Enter the 6 digits');
  });

  describe('setup', () => {
    it('shows the QR code and grouped key, takes a code, shows ten backup codes once, then never again', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const page = await browser.handoff({ sub: userId, purpose: 'setup' });
      expectPageHeaders(page);
      const secret = attribute(page.text, 'data-manual-key')!;
      expect(secret).toMatch(/^[A-Z2-7]+$/);
      expect(page.text).toContain(`<span>${secret.slice(0, 4)}</span> <span>${secret.slice(4, 8)}</span>`);
      expect(page.text).toContain('<svg');
      expect(page.text).toMatch(/<input[^>]*name="code"[^>]*inputmode="numeric"[^>]*autocomplete="one-time-code"/);
      expect(page.text).toMatch(/<label for="code">/);

      const wrong = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: wrongCode(h, secret) });
      expect(wrong.status).toBe(422);
      expect(wrong.text).toContain('role="alert"');
      expect(wrong.text).toContain('aria-invalid="true"');
      expect(attribute(wrong.text, 'data-manual-key')).toBe(secret);

      const done = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(done.status).toBe(200);
      expectPageHeaders(done);
      const codes = attributes(done.text, 'data-backup-code');
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(/^\d{8}$/);
      expect(done.text).toContain(`href="${HOST_ORIGIN}/after"`);
      expect(done.text).toMatch(/data-download-codes/);

      const again = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(attributes(again.text, 'data-backup-code')).toEqual([]);
      expect(again.text).toContain('already on');
      const refreshed = await browser.get('/two-factor/setup');
      expect(refreshed.status).toBe(200);
      expect(attributes(refreshed.text, 'data-backup-code')).toEqual([]);
      expect(attribute(refreshed.text, 'data-manual-key')).toBeNull();
      const view = await h.call('GET', `/v1/users/${userId}`, { token: platform });
      expect(view.body.twoFactor.status).toBe('enabled');
    });

    it('refuses a malformed code inline without counting it', async () => {
      const browser = new PageClient(h);
      const page = await browser.handoff({ sub: await newUser(), purpose: 'setup' });
      const answer = await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: '12ab' });
      expect(answer.status).toBe(422);
      expect(answer.text).toContain('Enter the 6 digits');
    });

    it('escapes what a host puts in returnTo', async () => {
      const browser = new PageClient(h);
      const page = await browser.handoff({ sub: await newUser(), purpose: 'console', returnTo: `${HOST_ORIGIN}/a?x="><script>alert(1)</script>` });
      expect(page.text).not.toContain('<script>alert(1)');
    });
  });

  describe('verify', () => {
    it('answers a right code with 303 to returnTo carrying a tfa assertion for the host', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const { secret } = await setUp(browser, userId);
      const page = await browser.handoff({ sub: userId, purpose: 'verify', returnTo: `${HOST_ORIGIN}/back?x=1` });
      expectPageHeaders(page);
      const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(answer.status).toBe(303);
      const target = new URL(answer.location!);
      expect(`${target.origin}${target.pathname}`).toBe(`${HOST_ORIGIN}/back`);
      expect(target.searchParams.get('x')).toBe('1');
      const { payload, protectedHeader } = await jwtVerify(target.searchParams.get('tfa')!, new TextEncoder().encode(TEST_JWT_SECRET), { audience: HOST_ORIGIN, currentDate: h.clock.now() });
      expect(protectedHeader.alg).toBe('HS256');
      expect(payload).toMatchObject({ sub: userId, amr: ['otp'], aud: HOST_ORIGIN, iss: 'http://localhost:3000' });
      expect(payload.exp! - payload.iat!).toBe(120);
      expect(typeof payload.jti).toBe('string');
      expect(typeof payload['auth_time']).toBe('number');

      const replay = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(replay.status).toBe(422);
      expect(replay.text).toContain('already been used');
    });

    it('accepts a backup code, marked in amr', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const { codes } = await setUp(browser, userId);
      const page = await browser.handoff({ sub: userId, purpose: 'verify' });
      const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: `${codes[0]!.slice(0, 4)}-${codes[0]!.slice(4)}` });
      expect(answer.status).toBe(303);
      const { payload } = await jwtVerify(new URL(answer.location!).searchParams.get('tfa')!, new TextEncoder().encode(TEST_JWT_SECRET), { currentDate: h.clock.now() });
      expect(payload['amr']).toEqual(['otp', 'backup_code']);
    });

    it('shows the lockout with the time left', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const { secret } = await setUp(browser, userId);
      const page = await browser.handoff({ sub: userId, purpose: 'verify' });
      let last: PageResponse | null = null;
      for (let i = 0; i < 5; i++) last = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: wrongCode(h, secret) });
      expect(last!.status).toBe(429);
      expect(last!.text).toMatch(/Try again in 30 minutes/);
      expect(last!.headers.get('retry-after')).toBe('1800');
      // Every code is refused until then, so the form's controls are disabled rather than inviting one.
      expect(lockedControls(last!.text)).toBe(true);
      h.clock.advance(10 * 60_000);
      const later = await browser.get('/two-factor/verify');
      expect(later.status).toBe(200);
      expect(later.text).toMatch(/Try again in 20 minutes/);
      expect(lockedControls(later.text)).toBe(true);
      // Backup codes are refused during a lockout too, so the page does not suggest one.
      expect(later.text).not.toContain(STRINGS.verify.noPhone);
      h.clock.advance(20 * 60_000);
      const after = await browser.get('/two-factor/verify');
      expect(after.text).not.toMatch(/Try again in/);
      expect(lockedControls(after.text)).toBe(false);
      expect(after.text).toContain(STRINGS.verify.noPhone);
      expect(after.text).toMatch(/<input class="code-input" id="code"/);
    });

    it('disables both of the manage page\'s code forms during a lockout, and says so up front', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const { secret } = await setUp(browser, userId);
      const manage = await browser.handoff({ sub: userId, purpose: 'manage' });
      expect(disabledCodeForms(manage.text)).toEqual([]);
      let last: PageResponse | null = null;
      for (let i = 0; i < 5; i++) last = await browser.post('/two-factor/manage/backup-codes', { csrf: csrfOf(manage.text), code: wrongCode(h, secret) });
      expect(last!.status).toBe(429);
      expect(last!.text).toMatch(/Try again in 30 minutes/);
      expect(disabledCodeForms(last!.text)).toEqual(['regenerate-code', 'disable-code']);
      h.clock.advance(5 * 60_000);
      const later = await browser.get('/two-factor/manage');
      expect(later.text).toMatch(/<div class="alert" role="alert"><p>Too many wrong codes\. Try again in 25 minutes/);
      expect(disabledCodeForms(later.text)).toEqual(['regenerate-code', 'disable-code']);
      h.clock.advance(25 * 60_000);
      const after = await browser.get('/two-factor/manage');
      expect(after.text).not.toMatch(/Try again in/);
      expect(disabledCodeForms(after.text)).toEqual([]);
    });
  });

  describe('manage', () => {
    it('shows the status, regenerates codes once, and refuses to disable while an organisation enforces it', async () => {
      const orgId = await registerOrg(h, platform, 'Soft Org');
      const userId = await newUser();
      expect((await setMember(h, platform, orgId, userId, 'member')).status).toBe(200);
      expect((await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' } })).status).toBe(200);
      const browser = new PageClient(h);
      const { secret } = await setUp(browser, userId);
      const page = await browser.handoff({ sub: userId, purpose: 'manage' });
      expectPageHeaders(page);
      expect(page.text).toContain('10 of 10 backup codes left');
      expect(page.text).toContain('You cannot turn it off: Soft Org requires it.');
      expect(page.text).not.toContain('action="/two-factor/manage/disable"');
      const regenerated = await browser.post('/two-factor/manage/backup-codes', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(regenerated.status).toBe(200);
      expect(attributes(regenerated.text, 'data-backup-code')).toHaveLength(10);
      h.clock.advance(STEP_MS);
      expect(attributes((await browser.get('/two-factor/manage')).text, 'data-backup-code')).toEqual([]);
      const refused = await browser.post('/two-factor/manage/disable', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('Soft Org requires it');
    });

    it('disables 2FA with a code when nothing enforces it', async () => {
      const browser = new PageClient(h);
      const userId = await newUser();
      const { secret } = await setUp(browser, userId);
      const page = await browser.handoff({ sub: userId, purpose: 'manage' });
      const answer = await browser.post('/two-factor/manage/disable', { csrf: csrfOf(page.text), code: codeAt(h, secret) });
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('Two-factor authentication is off.');
    });
  });

  describe('assets', () => {
    it('serves the stylesheet, the brand colours, the script and the prompt element', async () => {
      const browser = new PageClient(h);
      expect((await browser.get('/two-factor/assets/pages.css')).headers.get('content-type')).toContain('text/css');
      expect((await browser.get('/two-factor/assets/brand.css')).text).toContain('--brand:#2457c5');
      expect((await browser.get('/two-factor/assets/pages.js')).headers.get('content-type')).toContain('text/javascript');
      const prompt = await browser.get('/two-factor/prompt.js');
      expect(prompt.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(prompt.headers.get('cache-control')).toContain('max-age=86400');
      expect((await browser.get('/.well-known/jwks.json')).text).toBe('{"keys":[]}');
    });
  });
});

describe('pages with a JWKS identity provider (ES256 assertions)', () => {
  it('publishes the service key and signs assertions that verify against it', async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
    const { createServer } = await import('node:http');
    const idp = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256' };
    const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
    const h = await startHarness({ env: { ...PAGES_ENV, AUTH_JWKS_URL: jwksUrl, AUTH_JWT_SECRET: '' } });
    try {
      const sign = (claims: Record<string, unknown>, sub: string) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setSubject(sub).setIssuedAt(Math.floor(h.clock.now().getTime() / 1000)).setExpirationTime(Math.floor(h.clock.now().getTime() / 1000) + 300);
      const platform = await sign({ roles: ['platform'] }, 'platform-1').sign(idp.privateKey);
      const userId = 'jwks-user-1';
      expect((await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: 'jwks@example.test' } })).status).toBe(201);
      const browser = new PageClient(h);
      const handoff = async (purpose: string) => sign({ purpose, returnTo: `${HOST_ORIGIN}/x` }, userId).setAudience('two-factor-pages').setJti(`jti-${purpose}-${Math.random()}`).sign(idp.privateKey);
      const landing = await browser.get(`/two-factor/handoff?token=${await handoff('setup')}`);
      const page = await browser.get(landing.location!);
      const secret = attribute(page.text, 'data-manual-key')!;
      expect((await browser.post('/two-factor/setup', { csrf: csrfOf(page.text), code: generateTotpCode({ secret, at: h.clock.now() }) })).status).toBe(200);
      h.clock.advance(STEP_MS);
      const verify = await browser.get((await browser.get(`/two-factor/handoff?token=${await handoff('verify')}`)).location!);
      const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(verify.text), code: generateTotpCode({ secret, at: h.clock.now() }) });
      expect(answer.status).toBe(303);
      const jwks = JSON.parse((await browser.get('/.well-known/jwks.json')).text) as { keys: Record<string, unknown>[] };
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).not.toHaveProperty('d');
      const { payload, protectedHeader } = await jwtVerify(new URL(answer.location!).searchParams.get('tfa')!, createLocalJWKSet(jwks as never), { audience: HOST_ORIGIN, currentDate: h.clock.now() });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload.sub).toBe(userId);
    } finally {
      await h.dispose();
      server.close();
    }
  });
});

describe('pages and the per-user rate limits', () => {
  it('spends the same allowance as the user\'s own JSON calls and answers 429 with the error page', async () => {
    const h = await startHarness({ env: { ...PAGES_ENV, RATE_LIMIT_PER_USER: '3' } });
    try {
      const platform = await h.token('platform-1', 'platform');
      const userId = await registerUser(h, platform);
      const { secret } = await enableTwoFactor(h, await h.token(userId), userId);
      // One verify through the JSON API, as the user themself.
      expect((await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token: await h.token(userId), body: { code: wrongCode(h, secret) } })).status).toBe(422);
      const browser = new PageClient(h);
      const page = await browser.handoff({ sub: userId, purpose: 'verify' });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: wrongCode(h, secret) })).status);
      expect(statuses).toEqual([422, 422, 429]);
      const limited = await browser.post('/two-factor/verify', { csrf: csrfOf(page.text), code: wrongCode(h, secret) });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toContain('text/html');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited.text).toContain('Too many attempts');
    } finally {
      await h.dispose();
    }
  });
});
