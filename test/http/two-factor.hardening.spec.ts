import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { BURST_ENV, startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { BackupCodeHasher } from '../../src/two-factor/backup-code.hasher.js';
import { SECRET_PURPOSE } from '../../src/two-factor/two-factor.flows.js';
import { STEP_MS, codeAt, enableTwoFactor, expectCommandAnswer, expectProblem, secretOf, streamLength, uniqueId, wrongCode } from './http-steps.js';

const MINUTE = 60_000;

/**
 * Hardening of the factor flows (issue 13, items 3, 4, 9, 10, 14): who may make the server do slow
 * work, ids with punctuation, bounded setup streams, double clicks, and one shape for lockouts.
 */
describe('HTTP two-factor hardening', () => {
  let h: Harness;
  let platform: string;
  let work: { hashes: () => number; matches: () => number; secretDecryptions: () => number };

  beforeAll(async () => {
    h = await startHarness({ env: BURST_ENV });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Counts, from now on, every scrypt hash, every backup-code match and every TOTP secret decryption. */
  function watchWork(): void {
    const hasher = h.service.app!.get(BackupCodeHasher, { strict: false });
    const hash = jest.spyOn(hasher, 'hash');
    const match = jest.spyOn(hasher, 'match');
    const decrypt = jest.spyOn(h.service.runtime.cipher, 'decrypt');
    work = {
      hashes: () => hash.mock.calls.length,
      matches: () => match.mock.calls.length,
      secretDecryptions: () => decrypt.mock.calls.filter((call) => call[1] === SECRET_PURPOSE).length,
    };
  }

  async function newUser(id = uniqueId('user')): Promise<{ userId: string; token: string }> {
    expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id, email: `${uniqueId('mail')}@example.test` } }), 201);
    return { userId: id, token: await h.token(id) };
  }

  function post(userId: string, action: string, token: string, body?: unknown): Promise<JsonResponse> {
    return h.call('POST', `/v1/users/${encodeURIComponent(userId)}/two-factor/${action}`, { token, ...(body === undefined ? {} : { body }) });
  }

  function disable(userId: string, token: string, code: string): Promise<JsonResponse> {
    return h.call('DELETE', `/v1/users/${encodeURIComponent(userId)}/two-factor`, { token, body: { code } });
  }

  async function eventsOf(userId: string, type: string): Promise<number> {
    return (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === type).length;
  }

  function expectLocked(response: JsonResponse, lockedUntil: string): void {
    expectProblem(response, 429, 'verification_locked');
    const seconds = Math.ceil((Date.parse(lockedUntil) - h.clock.now().getTime()) / 1000);
    expect(response.body).toMatchObject({ lockedUntil, retryAfterSeconds: seconds });
    expect(response.headers.get('retry-after')).toBe(String(seconds));
  }

  describe('authorisation and lockout come before any slow work', () => {
    it('refuses another end user (403) on confirm, verify, backup codes and disable without hashing, matching or decrypting anything', async () => {
      const { userId, token } = await newUser();
      const { secret, backupCodes } = await enableTwoFactor(h, token, userId);
      const pending = await newUser();
      const pendingSecret = secretOf((await post(pending.userId, 'setup', pending.token)).body.otpauthUri);
      const intruder = await h.token(uniqueId('intruder'));
      const before = await streamLength(h, `user-${userId}`);
      watchWork();

      expectProblem(await post(pending.userId, 'confirm', intruder, { code: codeAt(h, pendingSecret) }), 403, 'not_own_account');
      expectProblem(await post(userId, 'verify', intruder, { code: codeAt(h, secret) }), 403, 'not_own_account');
      expectProblem(await post(userId, 'verify', intruder, { backupCode: backupCodes[0] }), 403, 'not_own_account');
      expectProblem(await post(userId, 'backup-codes', intruder, { code: codeAt(h, secret) }), 403, 'not_own_account');
      expectProblem(await disable(userId, intruder, codeAt(h, secret)), 403, 'not_own_account');
      // The same for a user id nobody registered: nothing to learn, nothing to compute.
      expectProblem(await post(uniqueId('ghost'), 'verify', intruder, { backupCode: '12345678' }), 403, 'not_own_account');

      expect({ hashes: work.hashes(), matches: work.matches(), secretDecryptions: work.secretDecryptions() }).toEqual({ hashes: 0, matches: 0, secretDecryptions: 0 });
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
    });

    it('refuses a locked-out user (429) before matching, hashing or decrypting, and every lockout answer has the same shape', async () => {
      const { userId, token } = await newUser();
      const { secret, backupCodes } = await enableTwoFactor(h, token, userId);
      for (let attempt = 1; attempt <= 4; attempt++) expectProblem(await post(userId, 'verify', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      const lockedUntil = new Date(h.clock.now().getTime() + 30 * MINUTE).toISOString();
      expectLocked(await post(userId, 'verify', token, { code: wrongCode(h, secret) }), lockedUntil);
      h.clock.advance(5 * MINUTE + 500);
      watchWork();

      expectLocked(await post(userId, 'verify', token, { backupCode: backupCodes[0] }), lockedUntil);
      expectLocked(await post(userId, 'verify', token, { code: codeAt(h, secret) }), lockedUntil);
      expectLocked(await post(userId, 'backup-codes', token, { code: codeAt(h, secret) }), lockedUntil);
      expectLocked(await disable(userId, token, codeAt(h, secret)), lockedUntil);
      expect({ hashes: work.hashes(), matches: work.matches(), secretDecryptions: work.secretDecryptions() }).toEqual({ hashes: 0, matches: 0, secretDecryptions: 0 });
      expect(await eventsOf(userId, 'TwoFactorVerificationFailed')).toBe(5);
    });

    it('hashes a new backup-code set only for a code that enables or authorises it', async () => {
      const { userId, token } = await newUser();
      const secret = secretOf((await post(userId, 'setup', token)).body.otpauthUri);
      watchWork();
      expectProblem(await post(userId, 'confirm', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      expect(work.hashes()).toBe(0);
      expectCommandAnswer(await post(userId, 'confirm', token, { code: codeAt(h, secret) }));
      expect(work.hashes()).toBe(10);
      h.clock.advance(STEP_MS);
      expectProblem(await post(userId, 'backup-codes', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      expect(work.hashes()).toBe(10);
      expectCommandAnswer(await post(userId, 'backup-codes', token, { code: codeAt(h, secret) }));
      expect(work.hashes()).toBe(20);
    });
  });

  describe('ids with punctuation', () => {
    for (const id of [uniqueId('tenant:alice'), `a:b:c.d_e-${Date.now()}`, `9${uniqueId('x')}:`]) {
      it(`sets up, confirms and verifies a factor for "${id}"`, async () => {
        const { userId, token } = await newUser(id);
        const setup = await post(userId, 'setup', token);
        expectCommandAnswer(setup, 201);
        const uri = new URL(setup.body.otpauthUri);
        // Key Uri Format: "issuer:account", and neither part may itself contain a colon.
        const label = decodeURIComponent(uri.pathname.slice(1));
        expect(label.split(':')).toEqual(['Approvals', userId.replaceAll(':', '.')]);
        expect(uri.searchParams.get('issuer')).toBe('Approvals');
        expect(setup.body.qrCodeSvg).toMatch(/^(<svg|<\?xml)/);
        const secret = secretOf(setup.body.otpauthUri);
        expectCommandAnswer(await post(userId, 'confirm', token, { code: codeAt(h, secret) }));
        h.clock.advance(STEP_MS);
        expectCommandAnswer(await post(userId, 'verify', token, { code: codeAt(h, secret) }));
        // ":" is allowed unencoded in a path segment (RFC 3986), as a host SDK may send it.
        const view = await h.call('GET', `/v1/users/${userId}`, { token });
        expect(view.body).toMatchObject({ id: userId, twoFactor: { status: 'enabled' } });
      });
    }
  });

  describe('repeated setup', () => {
    it('answers the pending secret again while it has not expired, storing one TwoFactorSetupStarted per expiry window', async () => {
      const { userId, token } = await newUser();
      const first = await post(userId, 'setup', token);
      expectCommandAnswer(first, 201);
      for (let call = 0; call < 49; call++) {
        const again = await post(userId, 'setup', call % 2 === 0 ? token : platform);
        expectCommandAnswer(again, 201);
        expect({ uri: again.body.otpauthUri, expiresAt: again.body.expiresAt }).toEqual({ uri: first.body.otpauthUri, expiresAt: first.body.expiresAt });
      }
      expect(await eventsOf(userId, 'TwoFactorSetupStarted')).toBe(1);

      h.clock.advance(15 * MINUTE);
      const renewed = await post(userId, 'setup', token);
      expectCommandAnswer(renewed, 201);
      expect(secretOf(renewed.body.otpauthUri)).not.toBe(secretOf(first.body.otpauthUri));
      expect(await eventsOf(userId, 'TwoFactorSetupStarted')).toBe(2);
      expectCommandAnswer(await post(userId, 'confirm', token, { code: codeAt(h, secretOf(renewed.body.otpauthUri)) }));
    });

    it('answers concurrent setups with one secret', async () => {
      const { userId, token } = await newUser();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(userId, 'setup', token)));
      for (const answer of answers) expectCommandAnswer(answer, 201);
      expect(new Set(answers.map((a) => a.body.otpauthUri)).size).toBe(1);
      expect(await eventsOf(userId, 'TwoFactorSetupStarted')).toBe(1);
    });
  });

  describe('a double click', () => {
    it('refuses the code just accepted as code_already_used without counting it toward the lockout', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const code = codeAt(h, secret);
      expectCommandAnswer(await post(userId, 'verify', token, { code }));
      for (let click = 0; click < 6; click++) expectProblem(await post(userId, 'verify', token, { code }), 422, 'code_already_used');
      expect(await eventsOf(userId, 'TwoFactorVerificationFailed')).toBe(0);
      h.clock.advance(STEP_MS);
      expectCommandAnswer(await post(userId, 'verify', token, { code: codeAt(h, secret) }));
    });
  });
});
