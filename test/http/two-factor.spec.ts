import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import {
  STEP_MS,
  codeAt,
  enableTwoFactor,
  expectCommandAnswer,
  expectProblem,
  registerOrg,
  registerUser,
  secretOf,
  setMember,
  MAIL_RECORDS,
  streamLength,
  uniqueId,
  userView,
  wrongCode,
} from './http-steps.js';

const MINUTE = 60_000;

describe('HTTP two-factor lifecycle', () => {
  let h: Harness;
  let platform: string;
  let support: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    support = await h.token('support-1', 'support');
  });
  afterAll(() => h.dispose());

  async function newUser(): Promise<{ userId: string; token: string }> {
    const userId = await registerUser(h, platform);
    return { userId, token: await h.token(userId) };
  }

  function twoFactor(userId: string, action: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<JsonResponse> {
    return h.call('POST', `/v1/users/${userId}/two-factor/${action}`, { token, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
  }

  describe('setup and confirmation', () => {
    it('returns an otpauth URI with a 160-bit secret, an SVG QR code and a 15-minute expiry; the user view shows it pending', async () => {
      const { userId, token } = await newUser();
      const setup = await twoFactor(userId, 'setup', token);
      expectCommandAnswer(setup, 201);
      const uri = new URL(setup.body.otpauthUri);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname)).toBe(`/Approvals:${userId}`);
      expect(Object.fromEntries(uri.searchParams)).toMatchObject({ issuer: 'Approvals', algorithm: 'SHA1', digits: '6', period: '30' });
      // Base32 of 20 bytes is 32 characters.
      expect(secretOf(setup.body.otpauthUri)).toMatch(/^[A-Z2-7]{32}$/);
      expect(setup.body.qrCodeSvg).toMatch(/^(<svg|<\?xml)/);
      expect(Date.parse(setup.body.expiresAt) - h.clock.now().getTime()).toBe(15 * MINUTE);
      expect((await userView(h, token, userId, setup.body.position)).body.twoFactor).toMatchObject({ status: 'pending', enabledSince: null });
    });

    it('confirms with a real code, returning 10 distinct 8-digit backup codes; the views show 2FA enabled', async () => {
      const { userId, token } = await newUser();
      const orgId = await registerOrg(h, platform);
      await setMember(h, platform, orgId, userId, 'admin');
      const setup = await twoFactor(userId, 'setup', token);
      const confirmedAt = h.clock.now().toISOString();
      const confirm = await twoFactor(userId, 'confirm', token, { code: codeAt(h, secretOf(setup.body.otpauthUri)) });
      expectCommandAnswer(confirm);
      expect(confirm.body.backupCodes).toHaveLength(10);
      expect(new Set(confirm.body.backupCodes).size).toBe(10);
      for (const code of confirm.body.backupCodes) expect(code).toMatch(/^\d{8}$/);
      const view = await userView(h, token, userId, confirm.body.position);
      expect(view.body.twoFactor).toEqual({ status: 'enabled', enabledSince: confirmedAt, backupCodesLeft: 10, lockedUntil: null, locked: false });
      const members = await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=enabled`, { token: support });
      expect(members.body.items).toEqual([expect.objectContaining({ userId, twoFactor: expect.objectContaining({ status: 'enabled', backupCodesLeft: 10 }) })]);
      expect((await h.call('GET', `/v1/organisations/${orgId}`, { token: support })).body.members).toEqual({ total: 1, withTwoFactor: 1, withoutTwoFactor: 0 });
    });

    it('refuses a wrong code (422, nothing recorded) and a setup confirmed after it expired', async () => {
      const { userId, token } = await newUser();
      const setup = await twoFactor(userId, 'setup', token);
      const secret = secretOf(setup.body.otpauthUri);
      const before = await streamLength(h, `user-${userId}`);
      expectProblem(await twoFactor(userId, 'confirm', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
      h.clock.advance(16 * MINUTE);
      expectProblem(await twoFactor(userId, 'confirm', token, { code: codeAt(h, secret) }), 410, 'setup_expired');
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
    });

    it('answers the pending secret while it lasts, then replaces it: the old secret no longer confirms', async () => {
      const { userId, token } = await newUser();
      const first = secretOf((await twoFactor(userId, 'setup', token)).body.otpauthUri);
      expect(secretOf((await twoFactor(userId, 'setup', token)).body.otpauthUri)).toBe(first);
      h.clock.advance(15 * MINUTE);
      const second = secretOf((await twoFactor(userId, 'setup', token)).body.otpauthUri);
      expect(second).not.toBe(first);
      expect(codeAt(h, first)).not.toBe(codeAt(h, second));
      expectProblem(await twoFactor(userId, 'confirm', token, { code: codeAt(h, first) }), 422, 'invalid_code');
      expectCommandAnswer(await twoFactor(userId, 'confirm', token, { code: codeAt(h, second) }));
      expectProblem(await twoFactor(userId, 'setup', token), 409, 'two_factor_already_enabled');
    });

    it('answers 400 for a malformed code without counting it', async () => {
      const { userId, token } = await newUser();
      await enableTwoFactor(h, token, userId);
      const before = await streamLength(h, `user-${userId}`);
      for (const body of [{ code: '12345' }, { code: 'abcdef' }, { backupCode: '1234' }, {}, { code: '123456', backupCode: '12345678' }]) {
        expectProblem(await twoFactor(userId, 'verify', token, body), 400, 'invalid_request');
      }
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
    });
  });

  describe('verification', () => {
    it('accepts a fresh code once; the same code again is refused as already used', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const code = codeAt(h, secret);
      const verified = await twoFactor(userId, 'verify', token, { code });
      expectCommandAnswer(verified);
      expect(verified.body.verified).toBe(true);
      expectProblem(await twoFactor(userId, 'verify', token, { code }), 422, 'code_already_used');
      h.clock.advance(STEP_MS);
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }));
    });

    it('accepts each backup code once, also when two uses race', async () => {
      const { userId, token } = await newUser();
      const { backupCodes } = await enableTwoFactor(h, token, userId);
      const used = await twoFactor(userId, 'verify', token, { backupCode: backupCodes[3] });
      expectCommandAnswer(used);
      // A spent slot is hashed against like any other and never matches, so it reads as a wrong code.
      expectProblem(await twoFactor(userId, 'verify', token, { backupCode: backupCodes[3] }), 422, 'invalid_code');
      const raced = await Promise.all([0, 1].map(() => twoFactor(userId, 'verify', token, { backupCode: backupCodes[7] })));
      expect(raced.map((r) => r.status).sort()).toEqual([200, 422]);
      const view = await userView(h, token, userId, (await h.service.runtime.eventStore.headPosition())!);
      expect(view.body.twoFactor.backupCodesLeft).toBe(8);
      expect((await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'BackupCodeUsed')).toHaveLength(2);
    });

    it('locks after five failures in a row (429 + Retry-After), refuses even a right code, and unlocks after 30 minutes', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      for (let attempt = 1; attempt <= 4; attempt++) {
        expectProblem(await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      }
      const fifth = await twoFactor(userId, 'verify', token, { backupCode: '00000000' });
      expectProblem(fifth, 429, 'verification_locked');
      expect(fifth.headers.get('retry-after')).toBe(String(30 * 60));
      const lockedUntil = new Date(h.clock.now().getTime() + 30 * MINUTE).toISOString();
      expect(fifth.body.lockedUntil).toBe(lockedUntil);

      h.clock.advance(10 * MINUTE);
      const stillLocked = await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) });
      expectProblem(stillLocked, 429, 'verification_locked');
      expect(stillLocked.headers.get('retry-after')).toBe(String(20 * 60));
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token, body: { code: codeAt(h, secret) } }), 429);
      const head = await h.service.runtime.eventStore.headPosition();
      const view = await userView(h, support, userId, head!);
      expect(view.body.twoFactor).toMatchObject({ lockedUntil, locked: true });

      h.clock.advance(20 * MINUTE);
      const unlocked = await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) });
      expectCommandAnswer(unlocked);
      expect((await userView(h, support, userId, unlocked.body.position)).body.twoFactor).toMatchObject({ lockedUntil: null, locked: false });
    });

    it('resets the failure count on a success', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      for (let attempt = 1; attempt <= 4; attempt++) await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) });
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }));
      for (let attempt = 1; attempt <= 4; attempt++) {
        expectProblem(await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) }), 422, 'invalid_code');
      }
    });

    it('gives exactly one success when requests with the same valid code race', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      for (let round = 0; round < 5; round++) {
        h.clock.advance(STEP_MS);
        const code = codeAt(h, secret);
        const answers = await Promise.all([0, 1, 2].map(() => twoFactor(userId, 'verify', token, { code })));
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses).toEqual([200, 422, 422]);
        for (const refused of answers.filter((a) => a.status === 422)) expect(refused.body.code).toBe('code_already_used');
      }
      const verified = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'TwoFactorVerified');
      expect(verified).toHaveLength(5);
    });
  });

  describe('backup code regeneration', () => {
    it('needs a valid code, replaces the set and invalidates the old codes', async () => {
      const { userId, token } = await newUser();
      const { secret, backupCodes: old } = await enableTwoFactor(h, token, userId);
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token, body: { code: wrongCode(h, secret) } }), 422, 'invalid_code');
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token, body: {} }), 400);
      const regenerated = await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token, body: { code: codeAt(h, secret) } });
      expectCommandAnswer(regenerated);
      const fresh: string[] = regenerated.body.backupCodes;
      expect(new Set(fresh).size).toBe(10);
      expect(fresh.some((code) => old.includes(code))).toBe(false);
      expectProblem(await twoFactor(userId, 'verify', token, { backupCode: old[0] }), 422, 'invalid_code');
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { backupCode: fresh[0] }));
    });

    it('is the user\'s own act: 403 for the platform and for another user', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const other = await newUser();
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token: platform, body: { code: codeAt(h, secret) } }), 403);
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/backup-codes`, { token: other.token, body: { code: codeAt(h, secret) } }), 403);
    });
  });

  describe('disable', () => {
    it('is refused with 409 while an organisation the user belongs to enforces 2FA, allowed once none does', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const orgId = await registerOrg(h, platform);
      await setMember(h, platform, orgId, userId, 'admin');
      // No waiting for read models here: the rule must hold right after the change.
      for (const mode of ['soft', 'hard'] as const) {
        expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token, body: { mode } }));
        const before = await streamLength(h, `user-${userId}`);
        const refused = await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: codeAt(h, secret) } });
        expectProblem(refused, 409, 'enforced_by_organisation');
        expect(refused.body.enforcingOrgIds).toEqual([orgId]);
        expect(await streamLength(h, `user-${userId}`)).toBe(before);
      }
      const elsewhere = await registerOrg(h, platform);
      await h.call('PUT', `/v1/organisations/${elsewhere}/enforcement`, { token: platform, body: { mode: 'hard' } });
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token, body: { mode: 'off' } }));
      expectCommandAnswer(await setMember(h, platform, elsewhere, userId, 'member'));
      expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: codeAt(h, secret) } }), 409, 'enforced_by_organisation');
      expectCommandAnswer(await h.call('DELETE', `/v1/organisations/${elsewhere}/members/${userId}`, { token: platform }));
      expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: wrongCode(h, secret) } }), 422, 'invalid_code');
      const disabled = await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: codeAt(h, secret) } });
      expectCommandAnswer(disabled);
      expect((await userView(h, token, userId, disabled.body.position)).body.twoFactor).toMatchObject({ status: 'none', backupCodesLeft: 0 });
      expect((await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=disabled`, { token: support })).body.items.map((m: { userId: string }) => m.userId)).toEqual([userId]);
    });

    it('is refused (503), not decided on stale read models, when they cannot catch up', async () => {
      // An API-only process whose read models nobody projects: they never learn of the membership.
      const apiOnly = await startHarness({ env: { ROLES: 'api', READ_YOUR_WRITES_TIMEOUT_MS: '200' } });
      try {
        const platformToken = await apiOnly.token('host-platform', 'platform');
        const orgId = await registerOrg(apiOnly, platformToken);
        await apiOnly.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platformToken, body: { mode: 'hard' } });
        const userId = await registerUser(apiOnly, platformToken);
        expectCommandAnswer(await setMember(apiOnly, platformToken, orgId, userId, 'admin'));
        const token = await apiOnly.token(userId);
        const { secret } = await enableTwoFactor(apiOnly, token, userId);
        const before = await streamLength(apiOnly, `user-${userId}`);
        const refused = await apiOnly.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: codeAt(apiOnly, secret) } });
        expectProblem(refused, 503, 'read_models_behind');
        expect(await streamLength(apiOnly, `user-${userId}`)).toBe(before);
      } finally {
        await apiOnly.dispose();
      }
    });

    it('is the user\'s own act: 403 for another user and for the platform', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const other = await newUser();
      expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token: other.token, body: { code: codeAt(h, secret) } }), 403);
      expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token: platform, body: { code: codeAt(h, secret) } }), 403);
    });
  });

  describe('support reset', () => {
    it('needs the support role and a written reason, and ends with no factor', async () => {
      const { userId, token } = await newUser();
      await enableTwoFactor(h, token, userId);
      const orgId = await registerOrg(h, platform);
      await setMember(h, platform, orgId, userId, 'member');
      const before = await streamLength(h, `user-${userId}`);
      expectProblem(await twoFactor(userId, 'reset', token, { reason: 'I lost my phone' }), 403, 'support_only');
      expectProblem(await twoFactor(userId, 'reset', platform, { reason: 'Lost phone' }), 403, 'support_only');
      expectProblem(await twoFactor(userId, 'reset', support, {}), 400, 'invalid_request');
      expectProblem(await twoFactor(userId, 'reset', support, { reason: '   ' }), 400, 'invalid_request');
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
      const reset = await twoFactor(userId, 'reset', support, { reason: 'Lost phone, identity checked by video call' });
      expectCommandAnswer(reset);
      const events = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => !MAIL_RECORDS.includes(e.type));
      expect(events.at(-1)).toMatchObject({ type: 'TwoFactorReset', data: { reason: 'Lost phone, identity checked by video call', by: 'support-1' } });
      expect((await userView(h, support, userId, reset.body.position)).body.twoFactor).toEqual({ status: 'none', enabledSince: null, backupCodesLeft: 0, lockedUntil: null, locked: false });
      expect((await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=disabled`, { token: support })).body.items.map((m: { userId: string }) => m.userId)).toEqual([userId]);
      expectProblem(await twoFactor(userId, 'reset', support, { reason: 'Again' }), 409, 'two_factor_not_enabled');
      // The user can enrol a new phone.
      await enableTwoFactor(h, token, userId);
    });
  });

  describe('forget', () => {
    it('needs the operator role; afterwards the user shows as forgotten and every 2FA command answers 410', async () => {
      const { userId, token } = await newUser();
      const { secret } = await enableTwoFactor(h, token, userId);
      const orgId = await registerOrg(h, platform);
      await setMember(h, platform, orgId, userId, 'admin');
      expectProblem(await h.call('POST', `/v1/users/${userId}/forget`, { token: support }), 403, 'operator_only');
      expectProblem(await h.call('POST', `/v1/users/${userId}/forget`, { token }), 403);
      const operator = await h.token('operator-1', 'operator');
      const forgotten = await h.call('POST', `/v1/users/${userId}/forget`, { token: operator });
      expectCommandAnswer(forgotten);
      const view = await userView(h, support, userId, forgotten.body.position);
      expect(view.body).toMatchObject({ id: userId, forgotten: true, email: null, twoFactor: { status: 'none' } });
      expect((await h.call('GET', `/v1/organisations/${orgId}/members`, { token: support })).body.items).toEqual([expect.objectContaining({ userId, forgotten: true })]);

      const length = await streamLength(h, `user-${userId}`);
      expectProblem(await twoFactor(userId, 'setup', token), 410, 'user_forgotten');
      expectProblem(await twoFactor(userId, 'setup', platform), 410, 'user_forgotten');
      // A caller who may not act on this user learns nothing, not even that the user was forgotten.
      expectProblem(await twoFactor(userId, 'setup', await h.token('someone-else')), 403, 'not_own_account');
      expectProblem(await h.call('POST', '/v1/users', { token: support, body: { id: userId, email: 'again@example.test' } }), 403, 'platform_only');
      expectProblem(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }), 410, 'user_forgotten');
      expectProblem(await twoFactor(userId, 'verify', token, { backupCode: '12345678' }), 410, 'user_forgotten');
      expectProblem(await twoFactor(userId, 'confirm', token, { code: codeAt(h, secret) }), 410, 'user_forgotten');
      expectProblem(await twoFactor(userId, 'reset', support, { reason: 'Lost phone' }), 410, 'user_forgotten');
      expectProblem(await h.call('POST', `/v1/users/${userId}/forget`, { token: operator }), 410, 'user_forgotten');
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: 'again@example.test' } }), 410, 'user_forgotten');
      const otherOrg = await registerOrg(h, platform);
      expectProblem(await setMember(h, platform, otherOrg, userId, 'member'), 410, 'user_forgotten');
      expect(await streamLength(h, `user-${userId}`)).toBe(length);
      expectProblem(await h.call('POST', `/v1/users/${uniqueId('ghost')}/forget`, { token: operator }), 404, 'user_not_found');
    });
  });

  describe('who may drive a factor', () => {
    it('lets a user act only on their own id, while the platform may drive setup, confirm and verify for anyone', async () => {
      const { userId } = await newUser();
      const other = await newUser();
      const before = await streamLength(h, `user-${userId}`);
      expectProblem(await twoFactor(userId, 'setup', other.token), 403, 'not_own_account');
      expectProblem(await twoFactor(userId, 'setup', support), 403);
      expect(await streamLength(h, `user-${userId}`)).toBe(before);
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/setup`), 401);

      const setup = await twoFactor(userId, 'setup', platform);
      expectCommandAnswer(setup, 201);
      const secret = secretOf(setup.body.otpauthUri);
      expectProblem(await twoFactor(userId, 'confirm', other.token, { code: codeAt(h, secret) }), 403, 'not_own_account');
      expectCommandAnswer(await twoFactor(userId, 'confirm', platform, { code: codeAt(h, secret) }));
      h.clock.advance(STEP_MS);
      expectProblem(await twoFactor(userId, 'verify', other.token, { code: codeAt(h, secret) }), 403, 'not_own_account');
      expectCommandAnswer(await twoFactor(userId, 'verify', platform, { code: codeAt(h, secret) }));
      expectProblem(await userView(h, other.token, userId), 403);
    });

    it('answers 404 for an unknown user and 409 when verifying without an enabled factor', async () => {
      const ghost = uniqueId('ghost');
      expectProblem(await twoFactor(ghost, 'setup', platform), 404, 'user_not_found');
      expectProblem(await twoFactor(ghost, 'verify', platform, { code: '123456' }), 404, 'user_not_found');
      const { userId, token } = await newUser();
      expectProblem(await twoFactor(userId, 'verify', token, { code: '123456' }), 409, 'two_factor_not_enabled');
      expectProblem(await twoFactor(userId, 'confirm', token, { code: '123456' }), 409, 'two_factor_not_pending');
    });
  });
});
