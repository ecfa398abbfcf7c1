import { describe, expect, it } from '@jest/globals';
import type { EncryptedValue } from '../../src/kernel/encrypted-value.js';
import type { Actor } from '../../src/kernel/event-envelope.js';
import { timeStepAt } from '../../src/two-factor/totp.policy.js';
import { MAX_TRUSTED_DEVICES } from '../../src/two-factor/trusted-device.decisions.js';
import type { NewTrustedDevice, UserCommand } from '../../src/two-factor/user.commands.js';
import { userDecider } from '../../src/two-factor/user.decider.js';
import type { UserEvent } from '../../src/two-factor/user.events.js';
import { given as givenFor } from '../support/given-when-then.js';

const USER = 'user-7';
const T0 = Date.parse('2026-01-05T09:00:00.000Z');
const DAY = 86_400;
const self: Actor = { id: USER, roles: [] };
const support: Actor = { id: 'sam-support', roles: ['support'] };
const platform: Actor = { id: 'host-app', roles: ['platform'] };
const operator: Actor = { id: 'olga-operator', roles: ['operator'] };

const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const stepAt = (seconds: number): number => timeStepAt(T0 + seconds * 1000);
const encrypted = (label: string): EncryptedValue => ({ keyId: 'key-user-7', iv: `iv-${label}`, ciphertext: `ct-${label}`, tag: `tag-${label}` });
const hash = (n: number): string => n.toString(16).padStart(64, '0');
const given = (history: readonly UserEvent[] = []) => givenFor(userDecider, history);

const enabled: UserEvent[] = [
  { type: 'UserRegistered', data: { userId: USER, email: encrypted('email') } },
  { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s1'), expiresAt: at(600) } },
  { type: 'TwoFactorEnabled', data: { timeStep: stepAt(0) } },
  { type: 'BackupCodesGenerated', data: { hashes: Array.from({ length: 10 }, (_, i) => `h${i}`), timeStep: stepAt(0) } },
];

function newDevice(n: number, seconds: number, days = 30): NewTrustedDevice {
  return { deviceId: `device-${n}`, tokenHash: hash(n), label: n % 2 === 0 ? encrypted(`label-${n}`) : null, expiresAt: at(seconds + days * DAY) };
}

function remembered(n: number, seconds: number, days = 30): UserEvent {
  const device = newDevice(n, seconds, days);
  return { type: 'TrustedDeviceRemembered', data: { ...device, rememberedAt: at(seconds) } };
}

const withDevice: UserEvent[] = [...enabled, remembered(1, 60)];

function verifyTotp(seconds: number, matchedTimeStep: number | null, rememberDevice: NewTrustedDevice | null = null): UserCommand {
  return { type: 'VerifyTwoFactor', method: 'totp', userId: USER, actor: self, at: at(seconds), matchedTimeStep, rememberDevice };
}

function verifyBackup(seconds: number, index: number | null, rememberDevice: NewTrustedDevice | null = null): UserCommand {
  return { type: 'VerifyTwoFactor', method: 'backup_code', userId: USER, actor: self, at: at(seconds), matchedBackupCodeIndex: index, rememberDevice };
}

function verifyDevice(seconds: number, matchedDeviceId: string | null, actor: Actor = self): UserCommand {
  return { type: 'VerifyTwoFactor', method: 'device', userId: USER, actor, at: at(seconds), matchedDeviceId };
}

function revoke(deviceId: string, actor: Actor = self, seconds = 300): UserCommand {
  return { type: 'RevokeTrustedDevice', userId: USER, actor, at: at(seconds), deviceId };
}

describe('remembering a device', () => {
  it('trusts the device in the same decision as a right code', () => {
    given(enabled).when(verifyTotp(60, stepAt(60), newDevice(1, 60))).thenEvents([
      { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } },
      remembered(1, 60),
    ]);
  });

  it('trusts the device after a right backup code too', () => {
    given(enabled).when(verifyBackup(60, 3, newDevice(2, 60))).thenEvents([{ type: 'BackupCodeUsed', data: { index: 3 } }, remembered(2, 60)]);
  });

  it('trusts nothing after a wrong code: the failure is recorded as before', () => {
    given(enabled).when(verifyTotp(60, null, newDevice(1, 60))).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
    given(enabled).when(verifyBackup(60, null, newDevice(1, 60))).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'backup_code', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
  });

  it('refuses a device with a plaintext label, a malformed hash or an expiry in the past', () => {
    const bad: NewTrustedDevice[] = [
      { ...newDevice(1, 60), label: 'Work laptop' as unknown as EncryptedValue },
      { ...newDevice(1, 60), tokenHash: 'not-a-hash' },
      { ...newDevice(1, 60), expiresAt: at(60) },
    ];
    for (const device of bad) given(enabled).when(verifyTotp(60, stepAt(60), device)).thenError({ kind: 'invalid', code: 'invalid_trusted_device' });
  });

  it(`keeps at most ${MAX_TRUSTED_DEVICES} devices: one more forgets the oldest`, () => {
    const full = [...enabled, ...Array.from({ length: MAX_TRUSTED_DEVICES }, (_, i) => remembered(i + 1, 60 + i))];
    given(full).when(verifyTotp(120, stepAt(120), newDevice(99, 120))).thenEvents([
      { type: 'TwoFactorVerified', data: { timeStep: stepAt(120), method: 'totp' } },
      { type: 'TrustedDeviceRevoked', data: { deviceId: 'device-1', by: USER, reason: 'limit' } },
      remembered(99, 120),
    ]);
  });

  it('drops devices that expired by the time another is remembered', () => {
    const state = given([...enabled, remembered(1, 0, 1)]).when(verifyTotp(2 * DAY, stepAt(2 * DAY), newDevice(2, 2 * DAY))).stateAfter();
    expect(state.status === 'registered' && state.trustedDevices.map((d) => d.deviceId)).toEqual(['device-2']);
  });
});

describe('verifying with a trusted device', () => {
  it('succeeds without a code and records the use', () => {
    given(withDevice).when(verifyDevice(600, 'device-1')).thenEvents([{ type: 'TrustedDeviceUsed', data: { deviceId: 'device-1', usedAt: at(600) } }]);
  });

  it('clears the failure count like any successful check', () => {
    const state = given([...withDevice, { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 4, reason: 'invalid_code' } }]).when(verifyDevice(600, 'device-1')).stateAfter();
    expect(state.status === 'registered' && state.failuresInARow).toBe(0);
  });

  it('counts an unknown token as a failed check', () => {
    given(withDevice).when(verifyDevice(600, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'device', failuresInARow: 1, reason: 'invalid_device_token' } },
    ]);
  });

  it('counts a revoked device as a failed check', () => {
    const revoked: UserEvent = { type: 'TrustedDeviceRevoked', data: { deviceId: 'device-1', by: USER, reason: 'revoked' } };
    given([...withDevice, revoked]).when(verifyDevice(600, 'device-1')).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'device', failuresInARow: 1, reason: 'invalid_device_token' } },
    ]);
  });

  it('counts an expired device as a failed check, at its expiry exactly', () => {
    given(withDevice).when(verifyDevice(60 + 30 * DAY, 'device-1')).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'device', failuresInARow: 1, reason: 'device_expired' } },
    ]);
  });

  it('locks on the fifth failure, device tokens and codes alike', () => {
    const four: UserEvent[] = [1, 2, 3, 4].map((n) => ({ type: 'TwoFactorVerificationFailed', data: { method: n % 2 ? 'device' : 'totp', failuresInARow: n, reason: 'invalid_code' } }) as UserEvent);
    given([...withDevice, ...four]).when(verifyDevice(600, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'device', failuresInARow: 5, reason: 'invalid_device_token' } },
      { type: 'TwoFactorLockedOut', data: { until: at(600 + 1800) } },
    ]);
  });

  it('is refused while locked, even with a trusted device', () => {
    given([...withDevice, { type: 'TwoFactorLockedOut', data: { until: at(2000) } }]).when(verifyDevice(600, 'device-1')).thenError({ kind: 'locked', code: 'verification_locked' });
  });

  it('is for the user or the platform, like any verification', () => {
    given(withDevice).when(verifyDevice(600, 'device-1', platform)).thenEvents([{ type: 'TrustedDeviceUsed', data: { deviceId: 'device-1', usedAt: at(600) } }]);
    given(withDevice).when(verifyDevice(600, 'device-1', support)).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });
});

describe('revoking devices', () => {
  it('revokes one device for the user or support', () => {
    given(withDevice).when(revoke('device-1')).thenEvents([{ type: 'TrustedDeviceRevoked', data: { deviceId: 'device-1', by: USER, reason: 'revoked' } }]);
    given(withDevice).when(revoke('device-1', support)).thenEvents([{ type: 'TrustedDeviceRevoked', data: { deviceId: 'device-1', by: 'sam-support', reason: 'revoked' } }]);
  });

  it('refuses anyone else', () => {
    given(withDevice).when(revoke('device-1', platform)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given(withDevice).when(revoke('device-1', { id: 'user-8', roles: [] })).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });

  it('answers not found for an unknown, already revoked or expired device', () => {
    given(withDevice).when(revoke('device-2')).thenError({ kind: 'not_found', code: 'device_not_found' });
    const revoked = given(withDevice).when(revoke('device-1')).stateAfter();
    expect(revoked.status === 'registered' && revoked.trustedDevices).toEqual([]);
    given(withDevice).when(revoke('device-1', self, 60 + 30 * DAY)).thenError({ kind: 'not_found', code: 'device_not_found' });
  });

  it('revokes every live device before a reset, a disable and a forget', () => {
    const two = [...withDevice, remembered(2, 120)];
    const revokedBy = (by: string, reason: string): UserEvent[] =>
      ['device-1', 'device-2'].map((deviceId) => ({ type: 'TrustedDeviceRevoked', data: { deviceId, by, reason } }) as UserEvent);
    given(two).when({ type: 'ResetTwoFactor', userId: USER, actor: support, at: at(300), reason: 'Lost phone' }).thenEvents([
      ...revokedBy('sam-support', 'reset'),
      { type: 'TwoFactorReset', data: { reason: 'Lost phone', by: 'sam-support' } },
    ]);
    given(two).when({ type: 'DisableTwoFactor', userId: USER, actor: self, at: at(300), matchedTimeStep: stepAt(300), enforcingOrgIds: [] }).thenEvents([
      ...revokedBy(USER, 'disabled'),
      { type: 'TwoFactorDisabled', data: { timeStep: stepAt(300) } },
    ]);
    given(two).when({ type: 'ForgetUser', userId: USER, actor: operator, at: at(300) }).thenEvents([...revokedBy('olga-operator', 'forgotten'), { type: 'UserForgotten', data: {} }]);
  });

  it('leaves no device after a reset or a disable, whatever the events before', () => {
    for (const end of [{ type: 'TwoFactorReset', data: { reason: 'r', by: 'sam-support' } }, { type: 'TwoFactorDisabled', data: { timeStep: stepAt(300) } }] as UserEvent[]) {
      const state = given([...withDevice, end]).state;
      expect(state.status === 'registered' && state.trustedDevices).toEqual([]);
    }
  });
});
