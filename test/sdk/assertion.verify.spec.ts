import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createEnforcementClient, MemoryReplayStore, TwoFactorAssertionError, type EnforcementClient, type ReplayStore } from '../../sdk/two-factor-sdk.js';
import { listen, type LocalServer } from './sdk-steps.js';

const HOST = 'https://app.example.test';
const SERVICE = 'https://2fa.example.test';
const SECRET = 'assertion-secret-for-sdk-specs-0123456789abcdef';

/** What the verify page mints (DESIGN §8), with any claim replaceable. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'user-1', aud: HOST, iss: SERVICE, amr: ['otp'], auth_time: now, iat: now, exp: now + 120, jti: `jti-${Math.random()}`, ...overrides };
}

const hs256 = (payload: JWTPayload, secret = SECRET) => new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

async function rejection(promise: Promise<unknown>): Promise<TwoFactorAssertionError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwoFactorAssertionError);
  return error as TwoFactorAssertionError;
}

describe('verifyAssertion', () => {
  const client = (replayStore?: ReplayStore): EnforcementClient =>
    createEnforcementClient({
      baseUrl: SERVICE,
      token: 'unused',
      handoff: { secret: SECRET },
      assertion: { secret: SECRET },
      hostOrigin: `${HOST}/ignored/path`,
      ...(replayStore ? { replayStore } : {}),
    });

  describe('HS256 (AUTH_JWT_SECRET)', () => {
    it('accepts the service assertion once and returns who passed which check when', async () => {
      const c = client();
      const authTime = Math.floor(Date.now() / 1000) - 3;
      const tfa = await hs256(claims({ auth_time: authTime, amr: ['otp'] }));
      expect(await c.verifyAssertion(tfa, { userId: 'user-1' })).toEqual({ userId: 'user-1', amr: ['otp'], authTime: new Date(authTime * 1000) });
      expect((await rejection(c.verifyAssertion(tfa))).code).toBe('replayed');
    });

    it.each([
      ['wrong_audience', claims({ aud: 'https://evil.example.test' })],
      ['wrong_issuer', claims({ iss: 'https://other-service.example.test' })],
      ['expired', claims({ iat: Math.floor(Date.now() / 1000) - 300, exp: Math.floor(Date.now() / 1000) - 60 })],
      ['lifetime_too_long', claims({ exp: Math.floor(Date.now() / 1000) + 3600 })],
      ['missing_claim', claims({ amr: undefined })],
      ['missing_claim', claims({ auth_time: undefined })],
      ['missing_claim', claims({ jti: undefined })],
    ])('rejects %s', async (code, payload) => {
      expect((await rejection(client().verifyAssertion(await hs256(payload)))).code).toBe(code);
    });

    it('rejects a forged signature, another user, garbage, and an unsigned token', async () => {
      const c = client();
      expect((await rejection(c.verifyAssertion(await hs256(claims(), 'another-secret-of-at-least-32-characters!!')))).code).toBe('invalid_signature');
      expect((await rejection(c.verifyAssertion(await hs256(claims()), { userId: 'user-2' }))).code).toBe('wrong_user');
      expect((await rejection(c.verifyAssertion('not.a.jwt'))).code).toBe('malformed');
      expect((await rejection(c.verifyAssertion(''))).code).toBe('malformed');
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
      expect((await rejection(c.verifyAssertion(`${header}.${body}.`))).code).not.toBe('replayed');
    });

    it('does not use up the id of an assertion it refused', async () => {
      const c = client();
      const jti = 'shared-id';
      await rejection(c.verifyAssertion(await hs256(claims({ jti, aud: 'https://evil.example.test' }))));
      await expect(c.verifyAssertion(await hs256(claims({ jti })))).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('shares replay protection through a pluggable store (two host instances)', async () => {
      const shared = new MemoryReplayStore();
      const tfa = await hs256(claims());
      await client(shared).verifyAssertion(tfa);
      expect((await rejection(client(shared).verifyAssertion(tfa))).code).toBe('replayed');
    });

    it('refuses rather than forgets when the in-memory store is full, and frees expired ids', async () => {
      let now = Date.now();
      const store = new MemoryReplayStore(2, () => now);
      const c = client(store);
      await c.verifyAssertion(await hs256(claims()));
      await c.verifyAssertion(await hs256(claims()));
      expect((await rejection(c.verifyAssertion(await hs256(claims())))).code).toBe('replay_store_full');
      now += 10 * 60_000;
      expect(store.claim('later', new Date(now + 60_000))).toBe(true);
      expect(store.size).toBe(1);
    });
  });

  describe('ES256 (the service key at /.well-known/jwks.json)', () => {
    let jwks: LocalServer;
    let privateKey: CryptoKey;
    let es: EnforcementClient;
    const es256 = (payload: JWTPayload, key = privateKey) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'service-key' }).sign(key);

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      privateKey = pair.privateKey;
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'service-key', alg: 'ES256', use: 'sig' };
      jwks = await listen((req, res) => {
        if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
      });
      es = createEnforcementClient({ baseUrl: SERVICE, token: 'unused', handoff: { secret: SECRET }, assertion: { jwksUrl: `${jwks.url}/.well-known/jwks.json` }, hostOrigin: HOST });
    });
    afterAll(() => jwks.close());

    it('accepts an assertion signed by the published key, once', async () => {
      const tfa = await es256(claims({ sub: 'user-es' }));
      expect(await es.verifyAssertion(tfa, { userId: 'user-es' })).toMatchObject({ userId: 'user-es', amr: ['otp'] });
      expect((await rejection(es.verifyAssertion(tfa))).code).toBe('replayed');
    });

    it('rejects another key, an HS256 token, a wrong audience or issuer, and an expired assertion', async () => {
      const stranger = await generateKeyPair('ES256');
      expect((await rejection(es.verifyAssertion(await es256(claims(), stranger.privateKey)))).code).toBe('invalid_signature');
      expect((await rejection(es.verifyAssertion(await hs256(claims())))).code).toBe('invalid_signature');
      expect((await rejection(es.verifyAssertion(await es256(claims({ aud: 'https://evil.example.test' }))))).code).toBe('wrong_audience');
      expect((await rejection(es.verifyAssertion(await es256(claims({ iss: 'https://evil.example.test' }))))).code).toBe('wrong_issuer');
      const past = Math.floor(Date.now() / 1000) - 600;
      expect((await rejection(es.verifyAssertion(await es256(claims({ iat: past, exp: past + 120 }))))).code).toBe('expired');
    });

    it('says the keys are unavailable when the JWKS cannot be fetched', async () => {
      const gone = await listen(() => undefined);
      await gone.close();
      const c = createEnforcementClient({ baseUrl: SERVICE, token: 'unused', handoff: { secret: SECRET }, assertion: { jwksUrl: `${gone.url}/.well-known/jwks.json` }, hostOrigin: HOST });
      expect((await rejection(c.verifyAssertion(await es256(claims())))).code).toBe('keys_unavailable');
    });
  });
});
