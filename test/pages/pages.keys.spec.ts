import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DerivedPagesKeys } from '../../src/personal-data/pages.keys.js';

describe('the pages\' keys', () => {
  const master = randomBytes(32);

  it('seal and open a session bound to its cookie name; altered, truncated or foreign values do not open', () => {
    const keys = new DerivedPagesKeys(master, null);
    const sealed = keys.seal('tfa_pages', '{"sub":"u1"}');
    expect(sealed).not.toContain('u1');
    expect(keys.open('tfa_pages', sealed)).toBe('{"sub":"u1"}');
    expect(keys.open('other_cookie', sealed)).toBeNull();
    expect(keys.open('tfa_pages', sealed.slice(0, -2))).toBeNull();
    const parts = sealed.split('.');
    parts[2] = parts[2]!.slice(0, -1) + (parts[2]!.endsWith('A') ? 'B' : 'A');
    expect(keys.open('tfa_pages', parts.join('.'))).toBeNull();
    expect(new DerivedPagesKeys(randomBytes(32), null).open('tfa_pages', sealed)).toBeNull();
    expect(keys.open('tfa_pages', 'garbage')).toBeNull();
  });

  it('derive the same ES256 key on every instance from the same master key, and publish only its public part', async () => {
    const one = new DerivedPagesKeys(master, null);
    const two = new DerivedPagesKeys(master, null);
    expect(one.assertionAlgorithm).toBe('ES256');
    expect(two.publicJwks()).toEqual(one.publicJwks());
    expect(JSON.stringify(one.publicJwks())).not.toContain('"d"');
    const token = await one.signAssertion({ sub: 'u1', aud: 'https://host.test', exp: Math.floor(Date.now() / 1000) + 60 });
    const { payload } = await jwtVerify(token, createLocalJWKSet(two.publicJwks() as never), { audience: 'https://host.test' });
    expect(payload.sub).toBe('u1');
    expect(new DerivedPagesKeys(randomBytes(32), null).publicJwks()).not.toEqual(one.publicJwks());
  });

  it('sign HS256 with the shared secret when API tokens use one, and publish no key', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-at-least-32-characters!');
    const keys = new DerivedPagesKeys(master, secret);
    expect(keys.publicJwks()).toEqual({ keys: [] });
    const { protectedHeader } = await jwtVerify(await keys.signAssertion({ sub: 'u1' }), secret);
    expect(protectedHeader.alg).toBe('HS256');
  });
});
