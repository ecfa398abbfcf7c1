import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { TEST_JWT_SECRET, startHarness, type Harness } from '../support/http-harness.js';
import { expectProblem } from './http-steps.js';

const HOUR = 3600;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A platform token with exactly the claims given (no defaults), signed with the test secret. */
function hsToken(claims: JWTPayload): Promise<string> {
  return new SignJWT({ roles: ['platform'], ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** Any authenticated GET that is not a 401 shows the token was accepted; an unknown org is a 404. */
async function accepted(h: Harness, authorization: string): Promise<boolean> {
  const response = await h.call('GET', '/v1/organisations/no-such-org', { headers: { authorization } });
  if (response.status === 401) {
    expectProblem(response, 401, 'unauthorized');
    return false;
  }
  expect(response.status).toBe(404);
  return true;
}

describe('bearer tokens', () => {
  describe('with a shared secret (HS256)', () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(() => h.dispose());

    it('accepts the scheme in any case and with several spaces (RFC 9110)', async () => {
      const token = await h.token('host-platform', 'platform');
      for (const scheme of ['Bearer ', 'bearer ', 'BEARER ', 'bEaReR   ']) expect(await accepted(h, `${scheme}${token}`)).toBe(true);
      for (const header of [`Bearer${token}`, `Bearer: ${token}`, `Token ${token}`, `Bearer ${token} extra`]) expect(await accepted(h, header)).toBe(false);
    });

    it('refuses a token issued in the future beyond 60 s of clock skew', async () => {
      const now = nowSeconds();
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now + 30, exp: now + HOUR })}`)).toBe(true);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now + 120, exp: now + HOUR })}`)).toBe(false);
    });

    it('refuses a token that lives longer than 24 hours by default, or that does not say when it was issued', async () => {
      const now = nowSeconds();
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now - 60, exp: now - 60 + 24 * HOUR })}`)).toBe(true);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now - 60, exp: now + 24 * HOUR })}`)).toBe(false);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now, exp: now + 365 * 24 * HOUR })}`)).toBe(false);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', exp: now + HOUR })}`)).toBe(false);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now })}`)).toBe(false);
    });
  });

  it('reads the longest token lifetime from AUTH_MAX_TOKEN_LIFETIME', async () => {
    const h = await startHarness({ env: { AUTH_MAX_TOKEN_LIFETIME: '1 hour' } });
    try {
      const now = nowSeconds();
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now, exp: now + HOUR })}`)).toBe(true);
      expect(await accepted(h, `Bearer ${await hsToken({ sub: 'svc', iat: now, exp: now + 2 * HOUR })}`)).toBe(false);
    } finally {
      await h.dispose();
    }
  });

  describe('with a JWKS served on loopback', () => {
    const ISSUER = 'https://idp.example.test/';
    const AUDIENCE = 'two-factor-service';
    let jwks: Server;
    let h: Harness;
    let sign: (claims: JWTPayload) => Promise<string>;

    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
      jwks = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      const { port } = jwks.address() as AddressInfo;
      h = await startHarness({ env: { AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE } });
      sign = (claims) => new SignJWT({ roles: ['platform'], ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'key-1' }).sign(privateKey);
    });
    afterAll(async () => {
      await h.dispose();
      await new Promise((resolve) => jwks.close(resolve));
    });

    const valid = (): JWTPayload => ({ sub: 'svc', iss: ISSUER, aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + HOUR });

    it('accepts a token of the configured issuer for this audience', async () => {
      expect(await accepted(h, `Bearer ${await sign(valid())}`)).toBe(true);
      expect(await accepted(h, `bearer ${await sign(valid())}`)).toBe(true);
    });

    it('refuses tokens meant for another application, from another issuer, or signed with the shared secret', async () => {
      const { aud: _aud, ...withoutAudience } = valid();
      const { iss: _iss, ...withoutIssuer } = valid();
      for (const claims of [{ ...valid(), aud: 'another-app' }, withoutAudience, { ...valid(), iss: 'https://evil.example.test/' }, withoutIssuer]) {
        expect(await accepted(h, `Bearer ${await sign(claims)}`)).toBe(false);
      }
      expect(await accepted(h, `Bearer ${await hsToken(valid())}`)).toBe(false);
    });

    it('refuses a token issued in the future or living longer than allowed', async () => {
      const now = nowSeconds();
      expect(await accepted(h, `Bearer ${await sign({ ...valid(), iat: now + 300, exp: now + HOUR })}`)).toBe(false);
      expect(await accepted(h, `Bearer ${await sign({ ...valid(), iat: now - HOUR, exp: now + 30 * 24 * HOUR })}`)).toBe(false);
      const { iat: _iat, ...withoutIat } = valid();
      expect(await accepted(h, `Bearer ${await sign(withoutIat)}`)).toBe(false);
    });
  });
});
