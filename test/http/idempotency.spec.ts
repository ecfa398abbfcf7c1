import { BURST_ENV, startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import {
  STEP_MS,
  codeAt,
  enableTwoFactor,
  expectCommandAnswer,
  expectProblem,
  registerOrg,
  registerUser,
  secretOf,
  MAIL_RECORDS,
  commandEventsSince,
  streamLength,
  uniqueId,
  wrongCode,
} from './http-steps.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('Idempotency-Key on command routes (DESIGN §7)', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness({ env: BURST_ENV });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  const keyed = (key: string): Record<string, string> => ({ 'idempotency-key': key });

  function twoFactor(userId: string, action: string, token: string, body: unknown, key?: string): Promise<JsonResponse> {
    return h.call('POST', `/v1/users/${userId}/two-factor/${action}`, { token, ...(body === undefined ? {} : { body }), ...(key ? { headers: keyed(key) } : {}) });
  }

  async function enabledUser(): Promise<{ userId: string; token: string; secret: string; backupCodes: string[] }> {
    const userId = await registerUser(h, platform);
    const token = await h.token(userId);
    const { secret, backupCodes } = await enableTwoFactor(h, token, userId);
    return { userId, token, secret, backupCodes };
  }

  async function eventTypes(stream: string): Promise<string[]> {
    return (await h.service.runtime.eventStore.readStream(stream)).filter((e) => !MAIL_RECORDS.includes(e.type)).map((e) => e.type);
  }

  /** The same status and the same body, byte for byte once parsed; marked as a replay. */
  function expectReplayOf(replay: JsonResponse, first: JsonResponse): void {
    expect({ status: replay.status, body: replay.body }).toEqual({ status: first.status, body: first.body });
    expect(replay.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  }

  describe('verify (issue 13, item 1)', () => {
    it('never answers "verified" for a wrong code sent under a key first used with a right code', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }, key));
      const before = await eventTypes(`user-${userId}`);
      const reused = await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) }, key);
      expectProblem(reused, 422, 'idempotency_key_reused');
      expect(reused.body.verified).toBeUndefined();
      expectProblem(await twoFactor(userId, 'verify', token, { backupCode: '12345678' }, key), 422, 'idempotency_key_reused');
      expect(await eventTypes(`user-${userId}`)).toEqual(before);
    });

    it('answers the identical first answer to the same key and body, without checking or storing anything again', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      const body = { code: codeAt(h, secret) };
      const first = await twoFactor(userId, 'verify', token, body, key);
      expectCommandAnswer(first);
      const length = await streamLength(h, `user-${userId}`);
      const replay = await twoFactor(userId, 'verify', token, body, key);
      expectReplayOf(replay, first);
      expect(await streamLength(h, `user-${userId}`)).toBe(length);
      // Without the key the same code is checked now, and refused as already used.
      expectProblem(await twoFactor(userId, 'verify', token, body), 422, 'code_already_used');
    });

    it('while locked out: replays only the identical request, refuses any other under the key, and a new key meets the lock', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      const body = { code: codeAt(h, secret) };
      const first = await twoFactor(userId, 'verify', token, body, key);
      expectCommandAnswer(first);
      for (let attempt = 1; attempt <= 5; attempt++) await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) });
      h.clock.advance(STEP_MS);
      expectProblem(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }, uniqueId('fresh')), 429, 'verification_locked');
      const before = await eventTypes(`user-${userId}`);
      expect(before.at(-1)).toBe('TwoFactorLockedOut');

      expectReplayOf(await twoFactor(userId, 'verify', token, body, key), first);
      expectProblem(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }, key), 422, 'idempotency_key_reused');
      expectProblem(await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) }, key), 422, 'idempotency_key_reused');
      expect(await eventTypes(`user-${userId}`)).toEqual(before);
    });

    it('replays a refusal (4xx) too, so a retried wrong code counts once toward the lockout', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      const body = { code: wrongCode(h, secret) };
      const first = await twoFactor(userId, 'verify', token, body, key);
      expectProblem(first, 422, 'invalid_code');
      const failures = (await eventTypes(`user-${userId}`)).filter((t) => t === 'TwoFactorVerificationFailed').length;
      for (let retry = 0; retry < 6; retry++) expectReplayOf(await twoFactor(userId, 'verify', token, body, key), first);
      expect((await eventTypes(`user-${userId}`)).filter((t) => t === 'TwoFactorVerificationFailed')).toHaveLength(failures);
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }));
    });
  });

  describe('setup and confirm', () => {
    it('answers a retried setup with the same secret, and a retried confirm or regeneration with the same backup codes, which work', async () => {
      const userId = await registerUser(h, platform);
      const token = await h.token(userId);
      const setupKey = uniqueId('setup');
      const setup = await twoFactor(userId, 'setup', token, undefined, setupKey);
      expectCommandAnswer(setup, 201);
      expectReplayOf(await twoFactor(userId, 'setup', token, undefined, setupKey), setup);
      const secret = secretOf(setup.body.otpauthUri);
      const confirmKey = uniqueId('confirm');
      const body = { code: codeAt(h, secret) };
      const confirm = await twoFactor(userId, 'confirm', token, body, confirmKey);
      expectCommandAnswer(confirm);
      const length = await streamLength(h, `user-${userId}`);
      expectReplayOf(await twoFactor(userId, 'confirm', token, body, confirmKey), confirm);
      expect(await streamLength(h, `user-${userId}`)).toBe(length);
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { backupCode: confirm.body.backupCodes[0] }));
      h.clock.advance(STEP_MS);
      const regenerateKey = uniqueId('regenerate');
      const regenerateBody = { code: codeAt(h, secret) };
      const regenerated = await twoFactor(userId, 'backup-codes', token, regenerateBody, regenerateKey);
      expectCommandAnswer(regenerated);
      expectReplayOf(await twoFactor(userId, 'backup-codes', token, regenerateBody, regenerateKey), regenerated);
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { backupCode: regenerated.body.backupCodes[9] }));
    });

    it('keeps the answer of a user route sealed under that user\'s data key: once the user is forgotten it cannot be replayed', async () => {
      const userId = await registerUser(h, platform);
      const token = await h.token(userId);
      const key = uniqueId('setup');
      expectCommandAnswer(await twoFactor(userId, 'setup', token, undefined, key), 201);
      const operator = await h.token('operator-1', 'operator');
      const forgetKey = uniqueId('forget');
      const forgotten = await h.call('POST', `/v1/users/${userId}/forget`, { token: operator, headers: keyed(forgetKey) });
      expectCommandAnswer(forgotten);
      expectProblem(await twoFactor(userId, 'setup', token, undefined, key), 410, 'user_forgotten');
      // The forget's own answer holds nothing of the user's and is sealed with the service key.
      expectReplayOf(await h.call('POST', `/v1/users/${userId}/forget`, { token: operator, headers: keyed(forgetKey) }), forgotten);
    });
  });

  describe('registration (issue 13, item 6)', () => {
    it('organisations: another id under a used key is 422 and registers nothing; the same body answers the same 201', async () => {
      const id = uniqueId('org');
      const key = uniqueId('register');
      const first = await h.call('POST', '/v1/organisations', { token: platform, body: { id, name: 'First Ltd' }, headers: keyed(key) });
      expectCommandAnswer(first, 201);
      const head = await h.service.runtime.eventStore.headPosition();
      const otherId = uniqueId('org');
      expectProblem(await h.call('POST', '/v1/organisations', { token: platform, body: { id: otherId, name: 'First Ltd' }, headers: keyed(key) }), 422, 'idempotency_key_reused');
      expect(await commandEventsSince(h, head)).toEqual([]);
      expect(await streamLength(h, `organisation-${otherId}`)).toBe(0);
      const replay = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'First Ltd', id }, headers: keyed(key) });
      expectReplayOf(replay, first);
      expect(replay.body.id).toBe(id);
      expect(await streamLength(h, `organisation-${id}`)).toBe(1);
    });

    it('users: another id or email under a used key is 422 and registers nothing; the same body answers the same 201', async () => {
      const id = uniqueId('user');
      const key = uniqueId('register');
      const body = { id, email: `${id}@example.test` };
      const first = await h.call('POST', '/v1/users', { token: platform, body, headers: keyed(key) });
      expectCommandAnswer(first, 201);
      const head = await h.service.runtime.eventStore.headPosition();
      const otherId = uniqueId('user');
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id: otherId, email: body.email }, headers: keyed(key) }), 422, 'idempotency_key_reused');
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id, email: `other-${id}@example.test` }, headers: keyed(key) }), 422, 'idempotency_key_reused');
      expect(await commandEventsSince(h, head)).toEqual([]);
      expect(await streamLength(h, `user-${otherId}`)).toBe(0);
      expectReplayOf(await h.call('POST', '/v1/users', { token: platform, body, headers: keyed(key) }), first);
    });

    it('answers the same generated id to a retry of a registration that names none', async () => {
      const key = uniqueId('register');
      const first = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Unnamed Ltd' }, headers: keyed(key) });
      expectCommandAnswer(first, 201);
      const replay = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Unnamed Ltd' }, headers: keyed(key) });
      expectReplayOf(replay, first);
      expect(await streamLength(h, `organisation-${first.body.id}`)).toBe(1);
      expectProblem(await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Other Ltd' }, headers: keyed(key) }), 422, 'idempotency_key_reused');
      // Without a key every registration is a new organisation.
      const unkeyed = await Promise.all([0, 1].map(() => h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Unnamed Ltd' } })));
      expect(new Set([first.body.id, ...unkeyed.map((r) => r.body.id)]).size).toBe(3);
    });
  });

  describe('concurrency', () => {
    it('runs a command once when many requests share a key: the others get 409 request_in_progress or the identical answer', async () => {
      const userId = await registerUser(h, platform);
      const token = await h.token(userId);
      const key = uniqueId('setup');
      const answers = await Promise.all(Array.from({ length: 12 }, () => twoFactor(userId, 'setup', token, undefined, key)));
      const done = answers.filter((a) => a.status === 201);
      const inProgress = answers.filter((a) => a.status !== 201);
      expect(done.length).toBeGreaterThanOrEqual(1);
      for (const answer of done) expect(answer.body).toEqual(done[0]!.body);
      for (const answer of inProgress) {
        expectProblem(answer, 409, 'request_in_progress');
        expect(answer.headers.get('retry-after')).toBe('1');
      }
      expect((await eventTypes(`user-${userId}`)).filter((t) => t === 'TwoFactorSetupStarted')).toHaveLength(1);
      expectReplayOf(await twoFactor(userId, 'setup', token, undefined, key), done[0]!);
    });

    it('appends one membership when membership changes race under one key', async () => {
      const orgId = await registerOrg(h, platform);
      const userId = await registerUser(h, platform);
      const key = uniqueId('member');
      const before = await streamLength(h, `organisation-${orgId}`);
      const answers = await Promise.all(Array.from({ length: 8 }, () => h.call('PUT', `/v1/organisations/${orgId}/members/${userId}`, { token: platform, body: { role: 'member' }, headers: keyed(key) })));
      expect(answers.map((a) => a.status).every((s) => s === 200 || s === 409)).toBe(true);
      for (const answer of answers.filter((a) => a.status === 409)) expect(answer.body.code).toBe('request_in_progress');
      expect(await streamLength(h, `organisation-${orgId}`)).toBe(before + 1);
    });
  });

  describe('scope of a key', () => {
    it('binds a key to the caller and the route: the same key elsewhere is another request', async () => {
      const key = uniqueId('shared');
      const alice = await registerUser(h, platform);
      const bob = await registerUser(h, platform);
      const forAlice = await twoFactor(alice, 'setup', await h.token(alice), undefined, key);
      const forBob = await twoFactor(bob, 'setup', await h.token(bob), undefined, key);
      expectCommandAnswer(forAlice, 201);
      expectCommandAnswer(forBob, 201);
      expect(forBob.body.otpauthUri).not.toBe(forAlice.body.otpauthUri);
      expect(forBob.headers.get('idempotent-replayed')).toBeNull();
      const orgId = await registerOrg(h, platform);
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' }, headers: keyed(key) }));
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 't-1' }, headers: keyed(key) }));
    });

    it('after 24 hours forgets the answer; a different body then runs as a new command and never replays the old events', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { code: codeAt(h, secret) }, key));
      h.clock.advance(DAY_MS + STEP_MS);
      const failuresBefore = (await eventTypes(`user-${userId}`)).filter((t) => t === 'TwoFactorVerificationFailed').length;
      expectProblem(await twoFactor(userId, 'verify', token, { code: wrongCode(h, secret) }, key), 422, 'invalid_code');
      expect((await eventTypes(`user-${userId}`)).filter((t) => t === 'TwoFactorVerificationFailed')).toHaveLength(failuresBefore + 1);
    });

    it('after 24 hours the identical verify is not answered "verified" from history: the code was not checked now', async () => {
      const { userId, token, secret } = await enabledUser();
      const key = uniqueId('verify');
      const body = { code: codeAt(h, secret) };
      expectCommandAnswer(await twoFactor(userId, 'verify', token, body, key));
      const length = await streamLength(h, `user-${userId}`);
      h.clock.advance(DAY_MS + STEP_MS);
      expectProblem(await twoFactor(userId, 'verify', token, body, key), 422, 'code_already_used');
      expect(await streamLength(h, `user-${userId}`)).toBe(length);
    });

    it('after 24 hours a retried confirm cannot show its backup codes again, and says so (409)', async () => {
      const userId = await registerUser(h, platform);
      const token = await h.token(userId);
      const secret = secretOf((await twoFactor(userId, 'setup', token, undefined)).body.otpauthUri);
      const key = uniqueId('confirm');
      const body = { code: codeAt(h, secret) };
      const confirm = await twoFactor(userId, 'confirm', token, body, key);
      expectCommandAnswer(confirm);
      const length = await streamLength(h, `user-${userId}`);
      h.clock.advance(DAY_MS + STEP_MS);
      expectProblem(await twoFactor(userId, 'confirm', token, body, key), 409, 'backup_codes_already_issued');
      expect(await streamLength(h, `user-${userId}`)).toBe(length);
      expectCommandAnswer(await twoFactor(userId, 'verify', token, { backupCode: confirm.body.backupCodes[0] }));
    });
  });

  describe('the header', () => {
    it('accepts 1 to 255 printable ASCII characters, spaces and punctuation included', async () => {
      const orgId = await registerOrg(h, platform);
      for (const key of ['k', 'order 42 / retry #1 (again)', 'x'.repeat(255), '{"json": [1, 2]}']) {
        const first = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' }, headers: keyed(key) });
        expectCommandAnswer(first);
        expectReplayOf(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' }, headers: keyed(key) }), first);
      }
    });

    it('refuses an empty, too long or non-printable key with 400 problem+json and changes nothing', async () => {
      const orgId = await registerOrg(h, platform);
      const head = await h.service.runtime.eventStore.headPosition();
      for (const key of ['', 'x'.repeat(256), 'tab\there', 'caf\u00e9']) {
        const refused = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' }, headers: keyed(key) });
        expectProblem(refused, 400, 'invalid_request');
        expect(refused.body.errors).toEqual([{ field: 'header.idempotency-key', message: '1 to 255 printable ASCII characters' }]);
      }
      expect(await commandEventsSince(h, head)).toEqual([]);
    });

    it('leaves commands without a key undeduplicated: a repeat is decided again', async () => {
      const body = { id: uniqueId('org'), name: 'Twice Ltd' };
      expectCommandAnswer(await h.call('POST', '/v1/organisations', { token: platform, body }), 201);
      const again = await h.call('POST', '/v1/organisations', { token: platform, body });
      expectProblem(again, 409, 'organisation_already_registered');
      expect(again.headers.get('idempotent-replayed')).toBeNull();
    });
  });

  describe('server errors', () => {
    it('stores no 5xx answer: the claim is released and a retry runs again', async () => {
      // An API-only process whose read models nobody projects: disabling 2FA answers 503 there.
      const apiOnly = await startHarness({ env: { ROLES: 'api', READ_YOUR_WRITES_TIMEOUT_MS: '200' } });
      try {
        const platformToken = await apiOnly.token('host-platform', 'platform');
        const userId = await registerUser(apiOnly, platformToken);
        const token = await apiOnly.token(userId);
        const { secret } = await enableTwoFactor(apiOnly, token, userId);
        const key = uniqueId('disable');
        const disable = (code: string): Promise<JsonResponse> => apiOnly.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code }, headers: keyed(key) });
        expectProblem(await disable(codeAt(apiOnly, secret)), 503, 'read_models_behind');
        // Released, not stored: the same key with another body is a new attempt, not a reuse.
        expectProblem(await disable(wrongCode(apiOnly, secret)), 503, 'read_models_behind');
        expectProblem(await disable(codeAt(apiOnly, secret)), 503, 'read_models_behind');
      } finally {
        await apiOnly.dispose();
      }
    });
  });
});
