import { startHarness, type Harness } from '../support/http-harness.js';
import { STEP_MS, codeAt, enableTwoFactor, expectCommandAnswer, expectProblem, registerUser, wrongCode } from './http-steps.js';

/** Trusted devices end to end over HTTP: remember, skip the code, list, revoke, and everything that ends them. */
describe('trusted devices', () => {
  let h: Harness;
  let platform: string;
  let support: string;
  let operator: string;

  beforeAll(async () => {
    h = await startHarness({ env: { RATE_LIMIT_PER_USER: '1000', RATE_LIMIT_PER_CLIENT: '100000' } });
    platform = await h.token('host-platform', 'platform');
    support = await h.token('support-agent', 'support');
    operator = await h.token('operator-1', 'operator');
  }, 60_000);
  afterAll(() => h.dispose());

  async function userWithFactor(): Promise<{ userId: string; token: string; secret: string }> {
    const userId = await registerUser(h, platform);
    const token = await h.token(userId);
    const { secret } = await enableTwoFactor(h, token, userId);
    return { userId, token, secret };
  }

  async function remember(userId: string, token: string, secret: string, label?: string): Promise<{ deviceId: string; deviceToken: string; deviceExpiresAt: string }> {
    const response = await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { code: codeAt(h, secret), rememberDevice: true, ...(label ? { deviceLabel: label } : {}) } });
    expectCommandAnswer(response);
    expect(response.body).toMatchObject({ verified: true, amr: ['otp'], deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    h.clock.advance(STEP_MS);
    return response.body;
  }

  const verifyWithDevice = (userId: string, token: string, deviceToken: string) => h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { deviceToken } });
  const devices = (userId: string, token: string) => h.call('GET', `/v1/users/${userId}/two-factor/devices`, { token });

  it('remembers a device for TRUSTED_DEVICE_DAYS, skips the code with it, lists it and revokes it', async () => {
    const { userId, token, secret } = await userWithFactor();
    const device = await remember(userId, token, secret, '  Work laptop  ');
    expect(Date.parse(device.deviceExpiresAt) - h.clock.now().getTime()).toBeGreaterThan(29 * 86_400_000);

    const skipped = await verifyWithDevice(userId, token, device.deviceToken);
    expectCommandAnswer(skipped);
    expect(skipped.body).toMatchObject({ verified: true, amr: ['device'] });
    expect(skipped.body.deviceToken).toBeUndefined();

    const listed = await devices(userId, support);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      { id: device.deviceId, label: 'Work laptop', createdAt: expect.any(String), lastUsedAt: h.clock.now().toISOString(), expiresAt: device.deviceExpiresAt },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(device.deviceToken);

    expectCommandAnswer(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${device.deviceId}`, { token }));
    expect((await devices(userId, token)).body.items).toEqual([]);
    expectProblem(await verifyWithDevice(userId, token, device.deviceToken), 422, 'invalid_device_token');
    expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${device.deviceId}`, { token: support }), 404, 'device_not_found');
  });

  it('binds a device to its user: another user\'s token does not skip their code', async () => {
    const alice = await userWithFactor();
    const bob = await userWithFactor();
    const device = await remember(alice.userId, alice.token, alice.secret);
    expectProblem(await verifyWithDevice(bob.userId, bob.token, device.deviceToken), 422, 'invalid_device_token');
  });

  it('stops trusting a device after its expiry', async () => {
    const { userId, token, secret } = await userWithFactor();
    const device = await remember(userId, token, secret);
    h.clock.advance(30 * 86_400_000 + 1000);
    expectProblem(await verifyWithDevice(userId, token, device.deviceToken), 422, 'device_expired');
    expect((await devices(userId, token)).body.items).toEqual([]);
  });

  it('revokes every device on a reset by support, on disable and on forget, and records each revocation', async () => {
    const reset = await userWithFactor();
    const [first, second] = [await remember(reset.userId, reset.token, reset.secret), await remember(reset.userId, reset.token, reset.secret)];
    expect((await devices(reset.userId, reset.token)).body.items).toHaveLength(2);
    expectCommandAnswer(await h.call('POST', `/v1/users/${reset.userId}/two-factor/reset`, { token: support, body: { reason: 'Lost phone, identity checked' } }));
    expect((await devices(reset.userId, reset.token)).body.items).toEqual([]);
    const stream = await h.service.runtime.eventStore.readStream(`user-${reset.userId}`);
    const revoked = stream.filter((e) => e.type === 'TrustedDeviceRevoked').map((e) => e.data);
    expect(revoked).toEqual([
      { deviceId: first.deviceId, by: 'support-agent', reason: 'reset' },
      { deviceId: second.deviceId, by: 'support-agent', reason: 'reset' },
    ]);
    expect(stream.at(-1)!.type).toBe('TwoFactorReset');
    // The auditor's timeline shows each device and its revocation, never the token's hash or the label.
    const audit = await h.call('GET', `/v1/audit/streams/user-${reset.userId}`, { token: await h.token('auditor-1', 'auditor') });
    const timeline = audit.body.events.filter((e: { type: string }) => e.type.startsWith('TrustedDevice'));
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(['TrustedDeviceRemembered', 'TrustedDeviceRemembered', 'TrustedDeviceRevoked', 'TrustedDeviceRevoked']);
    expect(timeline[0].data).toMatchObject({ deviceId: first.deviceId, tokenHash: { redacted: true }, label: null });

    const disabled = await userWithFactor();
    const kept = await remember(disabled.userId, disabled.token, disabled.secret);
    expectCommandAnswer(await h.call('DELETE', `/v1/users/${disabled.userId}/two-factor`, { token: disabled.token, body: { code: codeAt(h, disabled.secret) } }));
    expect((await devices(disabled.userId, disabled.token)).body.items).toEqual([]);
    // With the factor gone there is nothing to verify: the token is refused before any check.
    expectProblem(await verifyWithDevice(disabled.userId, disabled.token, kept.deviceToken), 409, 'two_factor_not_enabled');

    const forgotten = await userWithFactor();
    const gone = await remember(forgotten.userId, forgotten.token, forgotten.secret);
    expectCommandAnswer(await h.call('POST', `/v1/users/${forgotten.userId}/forget`, { token: operator }));
    const history = await h.service.runtime.eventStore.readStream(`user-${forgotten.userId}`);
    expect(history.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['TrustedDeviceRevoked', { deviceId: gone.deviceId, by: 'operator-1', reason: 'forgotten' }],
      ['UserForgotten', {}],
    ]);
    expectProblem(await devices(forgotten.userId, support), 410, 'user_forgotten');
  });

  it('counts a wrong device token toward the lockout like a wrong code, and locks', async () => {
    const { userId, token, secret } = await userWithFactor();
    const forged = 'A'.repeat(43);
    for (let attempt = 1; attempt <= 3; attempt++) expectProblem(await verifyWithDevice(userId, token, forged), 422, 'invalid_device_token');
    expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { code: wrongCode(h, secret) } }), 422, 'invalid_code');
    const locked = await verifyWithDevice(userId, token, forged);
    expectProblem(locked, 429, 'verification_locked');
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    // Locked: even a right code waits.
    expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { code: codeAt(h, secret) } }), 429, 'verification_locked');
    const failures = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'TwoFactorVerificationFailed').map((e) => e.data['method']);
    expect(failures).toEqual(['device', 'device', 'device', 'totp', 'device']);
  });

  it('asks for exactly one of code, backupCode and deviceToken, and a valid label only with rememberDevice', async () => {
    const { userId, token, secret } = await userWithFactor();
    const verify = (body: unknown) => h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body });
    const deviceToken = 'B'.repeat(43);
    expectProblem(await verify({ code: codeAt(h, secret), deviceToken }), 400);
    expectProblem(await verify({ backupCode: '12345678', deviceToken }), 400);
    expectProblem(await verify({}), 400);
    expectProblem(await verify({ deviceToken, rememberDevice: true }), 400);
    expectProblem(await verify({ deviceToken: 'short' }), 400);
    expectProblem(await verify({ code: codeAt(h, secret), deviceLabel: 'No remember' }), 400);
    expectProblem(await verify({ code: codeAt(h, secret), rememberDevice: true, deviceLabel: 'x'.repeat(65) }), 400);
    expectProblem(await verify({ code: codeAt(h, secret), rememberDevice: true, deviceLabel: 'bad\u0007bell' }), 400);
    expectProblem(await verify({ code: codeAt(h, secret), rememberDevice: true, deviceLabel: '   ' }), 400);
    // None of these was a check: nothing counted toward the lockout.
    const failures = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'TwoFactorVerificationFailed');
    expect(failures).toEqual([]);
  });

  it('lets only the user and support list and revoke devices', async () => {
    const { userId, token, secret } = await userWithFactor();
    const device = await remember(userId, token, secret);
    const other = await h.token('someone-else');
    expectProblem(await devices(userId, other), 403);
    expectProblem(await devices(userId, platform), 403);
    expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${device.deviceId}`, { token: other }), 403);
    expectProblem(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${device.deviceId}`, { token: platform }), 403);
    expectCommandAnswer(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${device.deviceId}`, { token: support }));
    const revoked = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'TrustedDeviceRevoked').map((e) => e.data);
    expect(revoked).toEqual([{ deviceId: device.deviceId, by: 'support-agent', reason: 'revoked' }]);
  });

  it('answers a keyed revoke retry with the first answer and a keyed remember retry with the same token', async () => {
    const { userId, token, secret } = await userWithFactor();
    const body = { code: codeAt(h, secret), rememberDevice: true, deviceLabel: 'Phone' };
    const headers = { 'idempotency-key': `remember-${userId}` };
    const first = await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body, headers });
    const again = await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body, headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const revokeHeaders = { 'idempotency-key': `revoke-${userId}` };
    const revoke = await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${first.body.deviceId}`, { token, headers: revokeHeaders });
    expectCommandAnswer(revoke);
    const replay = await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${first.body.deviceId}`, { token, headers: revokeHeaders });
    expect({ status: replay.status, body: replay.body, replayed: replay.headers.get('idempotent-replayed') }).toEqual({ status: 200, body: revoke.body, replayed: 'true' });
  });
});
