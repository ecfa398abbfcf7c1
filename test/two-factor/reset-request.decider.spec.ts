import { describe, it } from '@jest/globals';
import type { EncryptedValue } from '../../src/kernel/encrypted-value.js';
import type { Actor } from '../../src/kernel/event-envelope.js';
import { timeStepAt } from '../../src/two-factor/totp.policy.js';
import type { UserCommand } from '../../src/two-factor/user.commands.js';
import { userDecider } from '../../src/two-factor/user.decider.js';
import type { UserEvent } from '../../src/two-factor/user.events.js';
import { given as givenFor } from '../support/given-when-then.js';

const USER = 'user-7';
const T0 = Date.parse('2026-01-05T09:00:00.000Z');
const HOUR = 3600;
const sam: Actor = { id: 'sam-support', roles: ['support'] };
const sue: Actor = { id: 'sue-support', roles: ['support'] };
const self: Actor = { id: USER, roles: [] };
const platform: Actor = { id: 'host-app', roles: ['platform'] };

const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const encrypted = (label: string): EncryptedValue => ({ keyId: 'k', iv: `iv-${label}`, ciphertext: `ct-${label}`, tag: `tag-${label}` });
const given = (history: readonly UserEvent[] = []) => givenFor(userDecider, history);

const registered: UserEvent[] = [{ type: 'UserRegistered', data: { userId: USER, email: encrypted('email') } }];
const enabled: UserEvent[] = [
  ...registered,
  { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s1'), expiresAt: at(600) } },
  { type: 'TwoFactorEnabled', data: { timeStep: timeStepAt(T0) } },
  { type: 'BackupCodesGenerated', data: { hashes: Array.from({ length: 10 }, (_, i) => `h${i}`), timeStep: timeStepAt(T0) } },
];
const requested: UserEvent = { type: 'TwoFactorResetRequested', data: { requestId: 'req-1', by: 'sam-support', reason: 'Lost phone', expiresAt: at(24 * HOUR) } };
const withRequest = [...enabled, requested];

function request(actor: Actor = sam, seconds = 0, expiresIn = 24 * HOUR, requestId = 'req-1'): UserCommand {
  return { type: 'RequestTwoFactorReset', userId: USER, actor, at: at(seconds), reason: '  Lost phone ', requestId, expiresAt: at(seconds + expiresIn) };
}

function approve(actor: Actor = sue, seconds = 60, requestId = 'req-1'): UserCommand {
  return { type: 'ApproveTwoFactorReset', userId: USER, actor, at: at(seconds), requestId };
}

describe('requesting a two-person reset', () => {
  it('records the request with its trimmed reason and changes nothing else', () => {
    given(enabled).when(request()).thenEvents([requested]);
  });

  it('is for support only', () => {
    for (const actor of [self, platform]) given(enabled).when(request(actor)).thenError({ kind: 'forbidden', code: 'support_only' });
  });

  it('needs a reason, a factor and an expiry within 24 hours', () => {
    given(enabled).when({ ...request(), reason: ' ' } as UserCommand).thenError({ kind: 'invalid', code: 'reason_required' });
    given(enabled).when(request(sam, 0, 24 * HOUR + 1)).thenError({ kind: 'invalid', code: 'invalid_expiry' });
    given(enabled).when(request(sam, 0, 0)).thenError({ kind: 'invalid', code: 'invalid_expiry' });
    given(registered).when(request()).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
  });

  it('keeps one pending request at a time, and allows a new one once it expired', () => {
    given(withRequest).when(request(sue, 60, 24 * HOUR, 'req-2')).thenError({ kind: 'conflict', code: 'reset_request_pending' });
    given(withRequest).when(request(sue, 24 * HOUR, 24 * HOUR, 'req-2')).thenEvents([
      { type: 'TwoFactorResetRequested', data: { requestId: 'req-2', by: 'sue-support', reason: 'Lost phone', expiresAt: at(48 * HOUR) } },
    ]);
  });
});

describe('approving a two-person reset', () => {
  it('resets the factor with the same event as a direct reset, naming requester and approver', () => {
    given(withRequest).when(approve()).thenEvents([{ type: 'TwoFactorReset', data: { reason: 'Lost phone', by: 'sam-support', requestId: 'req-1', approvedBy: 'sue-support' } }]);
  });

  it('revokes the trusted devices with the factor', () => {
    const device: UserEvent = { type: 'TrustedDeviceRemembered', data: { deviceId: 'd1', tokenHash: 'a'.repeat(64), label: null, rememberedAt: at(0), expiresAt: at(30 * 24 * HOUR) } };
    given([...withRequest, device]).when(approve()).thenEvents([
      { type: 'TrustedDeviceRevoked', data: { deviceId: 'd1', by: 'sue-support', reason: 'reset' } },
      { type: 'TwoFactorReset', data: { reason: 'Lost phone', by: 'sam-support', requestId: 'req-1', approvedBy: 'sue-support' } },
    ]);
  });

  it('refuses the requester approving their own request', () => {
    given(withRequest).when(approve(sam)).thenError({ kind: 'forbidden', code: 'self_approval' });
  });

  it('refuses anyone but support', () => {
    given(withRequest).when(approve(self)).thenError({ kind: 'forbidden', code: 'support_only' });
  });

  it('refuses an unknown request', () => {
    given(withRequest).when(approve(sue, 60, 'req-9')).thenError({ kind: 'not_found', code: 'reset_request_not_found' });
  });

  it('refuses an expired request, at its expiry exactly', () => {
    given(withRequest).when(approve(sue, 24 * HOUR - 1)).thenEvents([{ type: 'TwoFactorReset', data: { reason: 'Lost phone', by: 'sam-support', requestId: 'req-1', approvedBy: 'sue-support' } }]);
    given(withRequest).when(approve(sue, 24 * HOUR)).thenError({ kind: 'gone', code: 'reset_request_expired' });
  });

  it('refuses a request already approved', () => {
    const approved: UserEvent = { type: 'TwoFactorReset', data: { reason: 'Lost phone', by: 'sam-support', requestId: 'req-1', approvedBy: 'sue-support' } };
    given([...withRequest, approved]).when(approve({ id: 'tom-support', roles: ['support'] })).thenError({ kind: 'conflict', code: 'reset_request_already_used' });
  });

  it('refuses a request closed by a direct reset or a disable in between', () => {
    given([...withRequest, { type: 'TwoFactorReset', data: { reason: 'other', by: 'tom-support' } }]).when(approve()).thenError({ kind: 'conflict', code: 'reset_request_closed' });
    given([...withRequest, { type: 'TwoFactorDisabled', data: { timeStep: timeStepAt(T0) + 2 } }]).when(approve()).thenError({ kind: 'conflict', code: 'reset_request_closed' });
  });
});
