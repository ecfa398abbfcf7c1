import { randomBytes } from 'node:crypto';
import { DerivedPagesKeys } from '../../src/personal-data/pages.keys.js';
import { cookieNaming, newSession, openSession, sessionCookie, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../../src/pages/page.session.js';
import { loadConfig } from '../../src/config/config.js';

describe('the pages\' session cookie', () => {
  const keys = new DerivedPagesKeys(randomBytes(32), null);
  const start = new Date('2026-01-05T09:00:00Z');
  const fields = { sub: 'u1', roles: [], purpose: 'setup', returnTo: 'https://host.test/a', signOutUrl: null, orgId: null } as const;

  it('is __Host- prefixed and Secure over HTTPS, plain over HTTP', () => {
    const https = cookieNaming('https://2fa.example.com');
    expect(https).toEqual({ name: '__Host-tfa_pages', secure: true });
    expect(sessionCookie(keys, https, newSession(fields, start), start)).toMatch(/^__Host-tfa_pages=[^;]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookieNaming('http://localhost:3000')).toEqual({ name: 'tfa_pages', secure: false });
  });

  it('opens while used within 30 minutes, and never past the absolute bound', () => {
    const naming = cookieNaming('http://localhost:3000');
    let session = newSession(fields, start);
    let at = start.getTime();
    const cookieAt = (ms: number): string => `${naming.name}=${sessionCookie(keys, naming, session, new Date(ms)).split(';')[0]!.split('=')[1]}`;
    for (; at < start.getTime() + SESSION_ABSOLUTE_MS - SESSION_IDLE_MS; at += SESSION_IDLE_MS - 60_000) {
      const opened = openSession(keys, naming, cookieAt(at), new Date(at + SESSION_IDLE_MS - 60_000));
      expect(opened?.sub).toBe('u1');
      session = opened!;
    }
    expect(openSession(keys, naming, cookieAt(at), new Date(start.getTime() + SESSION_ABSOLUTE_MS + 1))).toBeNull();
    expect(openSession(keys, naming, cookieAt(start.getTime()), new Date(start.getTime() + SESSION_IDLE_MS + 1))).toBeNull();
  });
});

describe('the pages\' configuration', () => {
  it('validates the brand colour, the logo and the return origins', () => {
    expect(() => loadConfig({ BRAND_COLOR: 'red' })).toThrow(/BRAND_COLOR/);
    expect(() => loadConfig({ BRAND_COLOR: '#12345' })).toThrow(/BRAND_COLOR/);
    expect(() => loadConfig({ LOGO_URL: 'http://cdn.example.com/logo.svg' })).toThrow(/LOGO_URL/);
    expect(() => loadConfig({ LOGO_URL: 'javascript:alert(1)' })).toThrow(/LOGO_URL/);
    expect(() => loadConfig({ PAGES_RETURN_ORIGINS: 'https://app.example.com/path' })).toThrow(/PAGES_RETURN_ORIGINS/);
    const config = loadConfig({ BRAND_COLOR: '#ffcc00', LOGO_URL: '/logo.svg', PAGES_RETURN_ORIGINS: 'https://app.example.com, http://localhost:3001' });
    expect(config.PAGES_RETURN_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:3001']);
    expect(loadConfig({}).PAGES_RETURN_ORIGINS).toBeUndefined();
  });
});
