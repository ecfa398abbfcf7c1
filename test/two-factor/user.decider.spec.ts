import { describe, expect, it } from '@jest/globals';
import type { EncryptedValue } from '../../src/kernel/encrypted-value.js';
import type { Actor } from '../../src/kernel/event-envelope.js';
import { timeStepAt } from '../../src/two-factor/totp.policy.js';
import type { UserCommand } from '../../src/two-factor/user.commands.js';
import {
  failedCheck,
  isFreshTimeStep,
  lockedUntilAt,
  refusalBeforeCheck,
  remainingBackupCodes,
  twoFactorStatus,
  userDecider,
  userStream,
  type UserState,
} from '../../src/two-factor/user.decider.js';
import type { UserEvent } from '../../src/two-factor/user.events.js';
import { given as givenFor } from '../support/given-when-then.js';

const USER = 'user-7';
const T0 = Date.parse('2026-01-05T09:00:00.000Z');
const STEP0 = timeStepAt(T0);

const self: Actor = { id: USER, roles: [] };
const otherUser: Actor = { id: 'user-8', roles: [] };
const platform: Actor = { id: 'host-app', roles: ['platform'] };
const support: Actor = { id: 'sam-support', roles: ['support'] };
const operator: Actor = { id: 'olga-operator', roles: ['operator'] };
const system: Actor = { id: 'two-factor-service', roles: ['system'] };

/** ISO instant `seconds` after T0. */
function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** The TOTP step current at `seconds` after T0. */
function stepAt(seconds: number): number {
  return timeStepAt(T0 + seconds * 1000);
}

function encrypted(label: string): EncryptedValue {
  return { keyId: 'key-user-7', iv: `iv-${label}`, ciphertext: `ct-${label}`, tag: `tag-${label}` };
}

function hashes(set: string): string[] {
  return Array.from({ length: 10 }, (_, i) => `scrypt$16384$8$1$salt-${set}-${i}$hash-${set}-${i}`);
}

const given = (history: readonly UserEvent[] = []) => givenFor(userDecider, history);

// ---------------------------------------------------------------------------------------------
// Histories.

const registered: UserEvent[] = [{ type: 'UserRegistered', data: { userId: USER, email: encrypted('email') } }];
const setupStarted: UserEvent = { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s1'), expiresAt: at(600) } };
const pending: UserEvent[] = [...registered, setupStarted];
const enabled: UserEvent[] = [
  ...pending,
  { type: 'TwoFactorEnabled', data: { timeStep: STEP0 } },
  { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: STEP0 } },
];

/** `count` failures continuing a run of `before` earlier ones. */
function failures(count: number, method: 'totp' | 'backup_code' = 'totp', before = 0): UserEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'TwoFactorVerificationFailed' as const,
    data: { method, failuresInARow: before + i + 1, reason: 'invalid_code' as const },
  }));
}

/** Five failures ending at T0+100 s: locked until T0+100 s+30 min. */
const lockedOut: UserEvent[] = [...enabled, ...failures(5), { type: 'TwoFactorLockedOut', data: { until: at(100 + 1800) } }];

// ---------------------------------------------------------------------------------------------
// Commands.

function register(actor: Actor = platform): UserCommand {
  return { type: 'RegisterUser', userId: USER, actor, at: at(0), email: encrypted('email') };
}

function startSetup(seconds = 0, actor: Actor = self, expiresIn = 600): UserCommand {
  return { type: 'StartTwoFactorSetup', userId: USER, actor, at: at(seconds), secret: encrypted(`s${seconds}`), expiresAt: at(seconds + expiresIn) };
}

function confirm(seconds: number, matchedTimeStep: number | null, actor: Actor = self): UserCommand {
  return { type: 'ConfirmTwoFactor', userId: USER, actor, at: at(seconds), matchedTimeStep, backupCodeHashes: hashes('a') };
}

function verifyTotp(seconds: number, matchedTimeStep: number | null, actor: Actor = self): UserCommand {
  return { type: 'VerifyTwoFactor', method: 'totp', userId: USER, actor, at: at(seconds), matchedTimeStep };
}

function verifyBackup(seconds: number, matchedBackupCodeIndex: number | null, actor: Actor = self): UserCommand {
  return { type: 'VerifyTwoFactor', method: 'backup_code', userId: USER, actor, at: at(seconds), matchedBackupCodeIndex };
}

function regenerate(seconds: number, matchedTimeStep: number | null, actor: Actor = self): UserCommand {
  return { type: 'RegenerateBackupCodes', userId: USER, actor, at: at(seconds), matchedTimeStep, backupCodeHashes: hashes('b') };
}

function disable(seconds: number, matchedTimeStep: number | null, enforcingOrgIds: string[] = [], actor: Actor = self): UserCommand {
  return { type: 'DisableTwoFactor', userId: USER, actor, at: at(seconds), matchedTimeStep, enforcingOrgIds };
}

function reset(reason: string, actor: Actor = support): UserCommand {
  return { type: 'ResetTwoFactor', userId: USER, actor, at: at(300), reason };
}

function forget(actor: Actor = operator): UserCommand {
  return { type: 'ForgetUser', userId: USER, actor, at: at(400) };
}

function reminder(periodKey: string, actor: Actor = system): UserCommand {
  return {
    type: 'RecordReminderSent',
    userId: USER,
    actor,
    at: at(500),
    orgIds: ['org-1'],
    cadence: 'hard',
    messageId: `<${periodKey}@mail.test>`,
    sentAt: at(499),
    periodKey,
  };
}

function registeredState(state: UserState) {
  if (state.status !== 'registered') throw new Error(`expected a registered user, got ${state.status}`);
  return state;
}

// ---------------------------------------------------------------------------------------------

describe('user stream', () => {
  it('is named after the user id', () => {
    expect(userStream(USER)).toBe('user-user-7');
  });
});

describe('registration', () => {
  it('registers a new user with an encrypted e-mail', () => {
    given().when(register()).thenEvents(registered);
    expect(twoFactorStatus(given(registered).state)).toBe('none');
  });

  it('refuses a second registration', () => {
    given(registered).when(register()).thenError({ kind: 'conflict', code: 'user_already_registered' });
  });

  it('refuses a plaintext or missing e-mail', () => {
    const command = { ...register(), email: 'ada@example.com' } as unknown as UserCommand;
    const error = given().when(command).thenError({ kind: 'invalid', code: 'invalid_email' });
    expect(error.message).not.toContain('ada@example.com');
  });

  it('refuses an invalid user id', () => {
    given().when({ ...register(), userId: '../etc' } as UserCommand).thenError({ kind: 'invalid', code: 'invalid_user_id' });
  });

  it('refuses a command without a valid instant', () => {
    given().when({ ...register(), at: 'yesterday' } as UserCommand).thenError({ kind: 'invalid', code: 'invalid_instant' });
  });

  it('is for the platform only', () => {
    given().when(register(self)).thenError({ kind: 'forbidden', code: 'platform_only' });
  });

  it('answers not found for every other command before registration', () => {
    given().when(startSetup()).thenError({ kind: 'not_found', code: 'user_not_found' });
    given().when(verifyTotp(60, STEP0 + 2)).thenError({ kind: 'not_found', code: 'user_not_found' });
    given().when(forget()).thenError({ kind: 'not_found', code: 'user_not_found' });
  });
});

describe('two-factor setup', () => {
  it('starts a setup with an encrypted secret and an expiry', () => {
    given(registered).when(startSetup()).thenEvents([
      { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s0'), expiresAt: at(600) } },
    ]);
  });

  it('may be driven by the platform on behalf of the user', () => {
    given(registered).when(startSetup(0, platform)).thenEvents([
      { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s0'), expiresAt: at(600) } },
    ]);
  });

  it('keeps a pending setup started again before it expires, so repeated calls do not grow the stream', () => {
    given(pending).when(startSetup(120)).thenNothingHappens();
    given(pending).when(startSetup(599, platform)).thenNothingHappens();
  });

  it('replaces a pending setup that has expired', () => {
    const state = given(pending).when(startSetup(600)).stateAfter();
    expect(registeredState(state).factor).toEqual({ kind: 'pending', secret: encrypted('s600'), expiresAt: at(1200) });
  });

  it('still validates the command when a setup is pending', () => {
    given(pending).when(startSetup(120, self, 0)).thenError({ kind: 'invalid', code: 'invalid_expiry' });
  });

  it('refuses to start while a factor is enabled', () => {
    given(enabled).when(startSetup(60)).thenError({ kind: 'conflict', code: 'two_factor_already_enabled' });
  });

  it('refuses an expiry that is not after the start', () => {
    given(registered).when(startSetup(0, self, 0)).thenError({ kind: 'invalid', code: 'invalid_expiry' });
  });

  it('refuses a plaintext secret', () => {
    const command = { ...startSetup(), secret: 'JBSWY3DPEHPK3PXP' } as unknown as UserCommand;
    const error = given(registered).when(command).thenError({ kind: 'invalid', code: 'invalid_secret' });
    expect(error.message).not.toContain('JBSWY3DPEHPK3PXP');
  });
});

describe('confirming the setup', () => {
  it('enables the factor and stores the backup code hashes with the confirming step', () => {
    given(pending).when(confirm(30, stepAt(30))).thenEvents([
      { type: 'TwoFactorEnabled', data: { timeStep: stepAt(30) } },
      { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: stepAt(30) } },
    ]);
  });

  it('leaves an enabled factor with ten unused codes and the step as replay barrier', () => {
    const state = registeredState(given(pending).when(confirm(30, stepAt(30))).stateAfter());
    expect(state.factor).toEqual({ kind: 'enabled', secret: encrypted('s1'), backupCodeHashes: hashes('a') });
    expect(state.lastAcceptedTimeStep).toBe(stepAt(30));
    expect(remainingBackupCodes(state)).toBe(10);
    expect(twoFactorStatus(state)).toBe('enabled');
  });

  it('refuses a wrong code without recording anything (nothing to protect yet)', () => {
    given(pending).when(confirm(30, null)).thenError({ kind: 'invalid', code: 'invalid_code' });
  });

  it('refuses a wrong code before looking at the backup code set (the handler hashes one only for a matching code)', () => {
    given(pending).when({ ...confirm(30, null), backupCodeHashes: [] } as UserCommand).thenError({ kind: 'invalid', code: 'invalid_code' });
  });

  it('refuses an expired setup', () => {
    given(pending).when(confirm(600, stepAt(600))).thenError({ kind: 'gone', code: 'setup_expired' });
  });

  it('refuses without a setup in progress', () => {
    given(registered).when(confirm(30, stepAt(30))).thenError({ kind: 'conflict', code: 'two_factor_not_pending' });
  });

  it('refuses when already enabled', () => {
    given(enabled).when(confirm(30, stepAt(30))).thenError({ kind: 'conflict', code: 'two_factor_already_enabled' });
  });

  it('refuses a set that is not ten distinct hashes', () => {
    const nine = { ...confirm(30, stepAt(30)), backupCodeHashes: hashes('a').slice(1) } as UserCommand;
    const repeated = { ...confirm(30, stepAt(30)), backupCodeHashes: Array(10).fill('h') } as UserCommand;
    given(pending).when(nine).thenError({ kind: 'invalid', code: 'invalid_backup_codes' });
    given(pending).when(repeated).thenError({ kind: 'invalid', code: 'invalid_backup_codes' });
  });

  it('refuses a matched step outside the drift window of the command time', () => {
    given(pending).when(confirm(30, stepAt(30) + 2)).thenError({ kind: 'invalid', code: 'time_step_out_of_window' });
    given(pending).when(confirm(30, -1)).thenError({ kind: 'invalid', code: 'time_step_out_of_window' });
  });

  it('accepts a code one step of drift either way', () => {
    given(pending).when(confirm(60, stepAt(60) - 1)).thenEvents([
      { type: 'TwoFactorEnabled', data: { timeStep: stepAt(60) - 1 } },
      { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: stepAt(60) - 1 } },
    ]);
  });
});

describe('verifying a sign-in', () => {
  it('accepts a fresh TOTP code and records its step', () => {
    given(enabled).when(verifyTotp(60, stepAt(60))).thenEvents([
      { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } },
    ]);
  });

  it('refuses the code just accepted (a double click) without recording a failure', () => {
    const verified = [...enabled, { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } } as UserEvent];
    const error = given(verified).when(verifyTotp(70, stepAt(60))).thenError({ kind: 'unprocessable', code: 'code_already_used' });
    expect(error.details).toEqual({});
  });

  it('does not let double clicks add up to a lockout', () => {
    const verified = [...enabled, ...failures(4), { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } } as UserEvent];
    given(verified).when(verifyTotp(70, stepAt(60))).thenError({ kind: 'unprocessable', code: 'code_already_used' });
    expect(registeredState(given(verified).state).failuresInARow).toBe(0);
  });

  it('refuses an earlier step than the last accepted one and counts it as a failure', () => {
    const verified = [...enabled, { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } } as UserEvent];
    const then = given(verified).when(verifyTotp(60, stepAt(60) - 1));
    then.thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'code_already_used' } },
    ]);
    expect(failedCheck(then.result as UserEvent[])).toEqual({ reason: 'code_already_used', lockedUntil: null });
  });

  it('refuses the code that confirmed the setup as just used, without counting it', () => {
    given(enabled).when(verifyTotp(10, STEP0)).thenError({ kind: 'unprocessable', code: 'code_already_used' });
  });

  it('records a wrong code as a failure', () => {
    const then = given(enabled).when(verifyTotp(60, null));
    then.thenEvents([{ type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } }]);
    expect(failedCheck(then.result as UserEvent[])).toEqual({ reason: 'invalid_code', lockedUntil: null });
  });

  it('resets the failure count on success', () => {
    const state = given([...enabled, ...failures(4)]).when(verifyTotp(60, stepAt(60))).stateAfter();
    expect(registeredState(state).failuresInARow).toBe(0);
    given([...enabled, ...failures(4), { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } }])
      .when(verifyTotp(90, null))
      .thenEvents([{ type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } }]);
  });

  it('refuses while no factor is enabled', () => {
    given(registered).when(verifyTotp(60, stepAt(60))).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
    given(pending).when(verifyTotp(60, stepAt(60))).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
  });

  it('refuses a step the handler could not have matched at that time', () => {
    given(enabled).when(verifyTotp(60, stepAt(60) + 5)).thenError({ kind: 'invalid', code: 'time_step_out_of_window' });
  });
});

describe('backup codes at sign-in', () => {
  it('accepts an unused code once and marks its slot used', () => {
    const then = given(enabled).when(verifyBackup(60, 3));
    then.thenEvents([{ type: 'BackupCodeUsed', data: { index: 3 } }]);
    const state = registeredState(then.stateAfter());
    expect(state.factor.kind === 'enabled' && state.factor.backupCodeHashes[3]).toBeNull();
    expect(remainingBackupCodes(state)).toBe(9);
  });

  it('refuses the same code twice', () => {
    given([...enabled, { type: 'BackupCodeUsed', data: { index: 3 } }])
      .when(verifyBackup(90, 3))
      .thenEvents([{ type: 'TwoFactorVerificationFailed', data: { method: 'backup_code', failuresInARow: 1, reason: 'code_already_used' } }]);
  });

  it('records a wrong backup code as a failure', () => {
    given(enabled).when(verifyBackup(60, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'backup_code', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
  });

  it('refuses a slot index that does not exist', () => {
    given(enabled).when(verifyBackup(60, 10)).thenError({ kind: 'invalid', code: 'invalid_backup_code_index' });
    given(enabled).when(verifyBackup(60, -1)).thenError({ kind: 'invalid', code: 'invalid_backup_code_index' });
  });

  it('resets the failure count on success', () => {
    const state = given([...enabled, ...failures(4, 'backup_code')]).when(verifyBackup(60, 0)).stateAfter();
    expect(registeredState(state).failuresInARow).toBe(0);
  });
});

describe('lockout', () => {
  it('locks for 30 minutes on the fifth failure in a row', () => {
    const then = given([...enabled, ...failures(4)]).when(verifyTotp(100, null));
    then.thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 5, reason: 'invalid_code' } },
      { type: 'TwoFactorLockedOut', data: { until: at(100 + 30 * 60) } },
    ]);
    expect(failedCheck(then.result as UserEvent[])).toEqual({ reason: 'invalid_code', lockedUntil: at(1900) });
  });

  it('counts TOTP and backup code failures together', () => {
    given([...enabled, ...failures(2), ...failures(2, 'backup_code', 2)])
      .when(verifyBackup(100, null))
      .thenEvents([
        { type: 'TwoFactorVerificationFailed', data: { method: 'backup_code', failuresInARow: 5, reason: 'invalid_code' } },
        { type: 'TwoFactorLockedOut', data: { until: at(1900) } },
      ]);
  });

  it('refuses every attempt while locked, with the seconds left, and records nothing', () => {
    const locked = given(lockedOut);
    const error = locked.when(verifyTotp(1000, stepAt(1000))).thenError({ kind: 'locked', code: 'verification_locked' });
    expect(error.details).toEqual({ lockedUntil: at(1900), retryAfterSeconds: 900 });
    locked.when(verifyTotp(1899, null)).thenError({ kind: 'locked', code: 'verification_locked' });
    locked.when(verifyBackup(1000, 2)).thenError({ kind: 'locked', code: 'verification_locked' });
    locked.when(regenerate(1000, stepAt(1000))).thenError({ kind: 'locked', code: 'verification_locked' });
    locked.when(disable(1000, stepAt(1000))).thenError({ kind: 'locked', code: 'verification_locked' });
    expect(lockedUntilAt(locked.state, new Date(at(1000)))).toBe(at(1900));
  });

  it('rounds the seconds left up, so a client retrying on time is not refused again', () => {
    const error = given(lockedOut).when({ ...verifyTotp(1000, null), at: new Date(T0 + 1899_500).toISOString() } as UserCommand)
      .thenError({ kind: 'locked', code: 'verification_locked' });
    expect(error.details).toEqual({ lockedUntil: at(1900), retryAfterSeconds: 1 });
  });

  it('expires by time: a correct code is accepted at the lock end', () => {
    given(lockedOut).when(verifyTotp(1900, stepAt(1900))).thenEvents([
      { type: 'TwoFactorVerified', data: { timeStep: stepAt(1900), method: 'totp' } },
    ]);
    expect(lockedUntilAt(given(lockedOut).state, new Date(at(1900)))).toBeNull();
  });

  it('starts a fresh count after the lock expires', () => {
    given(lockedOut).when(verifyTotp(2000, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
  });
});

describe('regenerating backup codes', () => {
  it('replaces the whole set after a fresh code', () => {
    const withUsed = [...enabled, { type: 'BackupCodeUsed', data: { index: 0 } } as UserEvent];
    const then = given(withUsed).when(regenerate(60, stepAt(60)));
    then.thenEvents([{ type: 'BackupCodesGenerated', data: { hashes: hashes('b'), timeStep: stepAt(60) } }]);
    const state = registeredState(then.stateAfter());
    expect(state.factor.kind === 'enabled' && state.factor.backupCodeHashes).toEqual(hashes('b'));
    expect(state.lastAcceptedTimeStep).toBe(stepAt(60));
  });

  it('counts a wrong or replayed code as a failure', () => {
    given(enabled).when(regenerate(60, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
    const verified = [...enabled, { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } } as UserEvent];
    given(verified).when(regenerate(60, stepAt(60) - 1)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'code_already_used' } },
    ]);
    given(verified).when(regenerate(60, stepAt(60))).thenError({ kind: 'unprocessable', code: 'code_already_used' });
  });

  it('records a wrong code as a failure without needing a new set (the handler hashes one only for a matching code)', () => {
    given(enabled).when({ ...regenerate(60, null), backupCodeHashes: [] } as UserCommand).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
  });

  it('is the user’s own act, not the platform’s', () => {
    given(enabled).when(regenerate(60, stepAt(60), platform)).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });

  it('refuses without an enabled factor', () => {
    given(pending).when(regenerate(60, stepAt(60))).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
  });

  it('refuses an incomplete set before spending the code', () => {
    const command = { ...regenerate(60, stepAt(60)), backupCodeHashes: [] } as UserCommand;
    given(enabled).when(command).thenError({ kind: 'invalid', code: 'invalid_backup_codes' });
  });
});

describe('disabling two-factor', () => {
  it('is refused while an organisation enforces it, naming the organisations', () => {
    const error = given(enabled)
      .when(disable(60, stepAt(60), ['org-1', 'org-2']))
      .thenError({ kind: 'conflict', code: 'enforced_by_organisation' });
    expect(error.details).toEqual({ enforcingOrgIds: ['org-1', 'org-2'] });
  });

  it('removes the factor after a fresh code when nothing enforces it', () => {
    const then = given(enabled).when(disable(60, stepAt(60)));
    then.thenEvents([{ type: 'TwoFactorDisabled', data: { timeStep: stepAt(60) } }]);
    expect(twoFactorStatus(then.stateAfter())).toBe('none');
  });

  it('counts a wrong code as a failure', () => {
    given(enabled).when(disable(60, null)).thenEvents([
      { type: 'TwoFactorVerificationFailed', data: { method: 'totp', failuresInARow: 1, reason: 'invalid_code' } },
    ]);
  });

  it('is the user’s own act', () => {
    given(enabled).when(disable(60, stepAt(60), [], platform)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given(enabled).when(disable(60, stepAt(60), [], otherUser)).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });

  it('refuses when no factor is enabled', () => {
    given(registered).when(disable(60, stepAt(60))).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
  });

  it('allows a new setup afterwards, confirmed within the same step (new secret, new barrier)', () => {
    const disabled = [...enabled, { type: 'TwoFactorDisabled', data: { timeStep: stepAt(60) } } as UserEvent];
    const restarted = [...disabled, { type: 'TwoFactorSetupStarted', data: { secret: encrypted('s2'), expiresAt: at(660) } } as UserEvent];
    given(restarted).when(confirm(61, stepAt(60))).thenEvents([
      { type: 'TwoFactorEnabled', data: { timeStep: stepAt(60) } },
      { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: stepAt(60) } },
    ]);
  });
});

describe('support reset', () => {
  it('needs the support role', () => {
    given(enabled).when(reset('Lost phone', self)).thenError({ kind: 'forbidden', code: 'support_only' });
    given(enabled).when(reset('Lost phone', platform)).thenError({ kind: 'forbidden', code: 'support_only' });
  });

  it.each(['', '   ', '\n\t'])('needs a written reason (%j)', (reason) => {
    given(enabled).when(reset(reason)).thenError({ kind: 'invalid', code: 'reason_required' });
  });

  it('refuses an overlong or control-character reason', () => {
    given(enabled).when(reset('x'.repeat(501))).thenError({ kind: 'invalid', code: 'invalid_reason' });
    given(enabled).when(reset('lost\u0000phone')).thenError({ kind: 'invalid', code: 'invalid_reason' });
  });

  it('records the trimmed reason and who reset', () => {
    given(enabled).when(reset('  Lost phone, ticket 4711  ')).thenEvents([
      { type: 'TwoFactorReset', data: { reason: 'Lost phone, ticket 4711', by: 'sam-support' } },
    ]);
  });

  it('ends with no factor, no lockout and no failures', () => {
    const state = registeredState(given(lockedOut).when(reset('Lost phone')).stateAfter());
    expect(state.factor).toEqual({ kind: 'none' });
    expect(state.lockedUntil).toBeNull();
    expect(state.failuresInARow).toBe(0);
    expect(lockedUntilAt(state, new Date(at(400)))).toBeNull();
  });

  it('also clears a pending setup', () => {
    expect(twoFactorStatus(given(pending).when(reset('Started on a lost phone')).stateAfter())).toBe('none');
  });

  it('refuses when there is nothing to reset', () => {
    given(registered).when(reset('Lost phone')).thenError({ kind: 'conflict', code: 'two_factor_not_enabled' });
  });
});

describe('forgetting a user', () => {
  const forgotten: UserEvent[] = [...enabled, { type: 'UserForgotten', data: {} }];

  it('needs the operator role', () => {
    given(enabled).when(forget(support)).thenError({ kind: 'forbidden', code: 'operator_only' });
    given(enabled).when(forget(self)).thenError({ kind: 'forbidden', code: 'operator_only' });
  });

  it('forgets a registered user', () => {
    given(enabled).when(forget()).thenEvents([{ type: 'UserForgotten', data: {} }]);
    expect(twoFactorStatus(given(forgotten).state)).toBe('forgotten');
  });

  it('answers gone to every later command', () => {
    const after = given(forgotten);
    const commands: UserCommand[] = [
      register(),
      startSetup(),
      confirm(30, stepAt(30)),
      verifyTotp(60, stepAt(60)),
      verifyBackup(60, 1),
      regenerate(60, stepAt(60)),
      disable(60, stepAt(60)),
      reset('Lost phone'),
      forget(),
      reminder('hard:2026-01-06'),
    ];
    for (const command of commands) after.when(command).thenError({ kind: 'gone', code: 'user_forgotten' });
  });
});

describe('reminders', () => {
  it('records a sent reminder', () => {
    const then = given(registered).when(reminder('hard:2026-01-05'));
    then.thenEvents([
      {
        type: 'ReminderSent',
        data: { orgIds: ['org-1'], cadence: 'hard', messageId: '<hard:2026-01-05@mail.test>', sentAt: at(499), periodKey: 'hard:2026-01-05' },
      },
    ]);
    expect(registeredState(then.stateAfter()).lastReminder).toEqual({ sentAt: at(499), cadence: 'hard', orgIds: ['org-1'] });
  });

  it('records each period once (a retried job changes nothing)', () => {
    const sent = given(registered).when(reminder('hard:2026-01-05')).result as UserEvent[];
    given([...registered, ...sent]).when(reminder('hard:2026-01-05')).thenNothingHappens();
    expect(given([...registered, ...sent]).when(reminder('hard:2026-01-06')).result).toHaveLength(1);
  });

  it('needs the system role', () => {
    given(registered).when(reminder('p', platform)).thenError({ kind: 'forbidden', code: 'system_only' });
    given(registered).when(reminder('p', self)).thenError({ kind: 'forbidden', code: 'system_only' });
  });

  it('refuses an incomplete record', () => {
    const noOrgs = { ...reminder('p'), orgIds: [] } as UserCommand;
    const badCadence = { ...reminder('p'), cadence: 'monthly' } as unknown as UserCommand;
    given(registered).when(noOrgs).thenError({ kind: 'invalid', code: 'invalid_reminder' });
    given(registered).when(badCadence).thenError({ kind: 'invalid', code: 'invalid_reminder' });
  });
});

describe('authorisation of the sign-in flow', () => {
  it('lets the platform act for the user', () => {
    given(pending).when(confirm(30, stepAt(30), platform)).thenEvents([
      { type: 'TwoFactorEnabled', data: { timeStep: stepAt(30) } },
      { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: stepAt(30) } },
    ]);
    given(enabled).when(verifyTotp(60, stepAt(60), platform)).thenEvents([
      { type: 'TwoFactorVerified', data: { timeStep: stepAt(60), method: 'totp' } },
    ]);
  });

  it('refuses another end user, before revealing whether the user exists', () => {
    given(registered).when(startSetup(0, otherUser)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given(pending).when(confirm(30, stepAt(30), otherUser)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given(enabled).when(verifyTotp(60, stepAt(60), otherUser)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given().when(verifyTotp(60, stepAt(60), otherUser)).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });

  it('does not let support or operators sign in as the user', () => {
    given(enabled).when(verifyTotp(60, stepAt(60), support)).thenError({ kind: 'forbidden', code: 'not_own_account' });
    given(enabled).when(verifyTotp(60, stepAt(60), operator)).thenError({ kind: 'forbidden', code: 'not_own_account' });
  });
});

describe('refusals decided before any code is checked', () => {
  const forgotten: UserEvent[] = [...enabled, { type: 'UserForgotten', data: {} }];
  const expired = { state: pending, seconds: 600 };
  // Each command carries no evidence (no matched step or slot, no hashes): what refuses it must
  // refuse it whatever code the caller typed, so the handler need not decrypt, match or hash.
  const cases: { name: string; history: UserEvent[]; command: UserCommand; expected: { kind: string; code: string } }[] = [
    { name: 'another user confirming', history: pending, command: confirm(30, null, otherUser), expected: { kind: 'forbidden', code: 'not_own_account' } },
    { name: 'another user verifying', history: enabled, command: verifyBackup(60, null, otherUser), expected: { kind: 'forbidden', code: 'not_own_account' } },
    { name: 'the platform regenerating', history: enabled, command: regenerate(60, null, platform), expected: { kind: 'forbidden', code: 'not_own_account' } },
    { name: 'another user disabling', history: enabled, command: disable(60, null, [], otherUser), expected: { kind: 'forbidden', code: 'not_own_account' } },
    { name: 'another user, unknown user id', history: [], command: verifyTotp(60, null, otherUser), expected: { kind: 'forbidden', code: 'not_own_account' } },
    { name: 'an unknown user', history: [], command: verifyTotp(60, null), expected: { kind: 'not_found', code: 'user_not_found' } },
    { name: 'a forgotten user', history: forgotten, command: verifyBackup(500, null), expected: { kind: 'gone', code: 'user_forgotten' } },
    { name: 'verifying without a factor', history: pending, command: verifyBackup(60, null), expected: { kind: 'conflict', code: 'two_factor_not_enabled' } },
    { name: 'confirming an expired setup', history: expired.state, command: confirm(expired.seconds, null), expected: { kind: 'gone', code: 'setup_expired' } },
    { name: 'confirming when enabled', history: enabled, command: confirm(30, null), expected: { kind: 'conflict', code: 'two_factor_already_enabled' } },
    { name: 'verifying while locked', history: lockedOut, command: verifyBackup(1000, null), expected: { kind: 'locked', code: 'verification_locked' } },
    { name: 'regenerating while locked', history: lockedOut, command: regenerate(1000, null), expected: { kind: 'locked', code: 'verification_locked' } },
    { name: 'disabling while locked', history: lockedOut, command: disable(1000, null), expected: { kind: 'locked', code: 'verification_locked' } },
  ];

  for (const { name, history, command, expected } of cases) {
    it(`refuses ${name}, and decide() gives the same answer`, () => {
      const state = given(history).state;
      const early = refusalBeforeCheck(command, state);
      expect(early && { kind: early.kind, code: early.code }).toEqual(expected);
      expect(given(history).when(command).thenError(expected as never)).toEqual(early);
    });
  }

  it('lets through what only the code can decide', () => {
    expect(refusalBeforeCheck(verifyTotp(60, null), given(enabled).state)).toBeNull();
    expect(refusalBeforeCheck(confirm(30, null), given(pending).state)).toBeNull();
    expect(refusalBeforeCheck(disable(60, null, ['org-1']), given(enabled).state)).toBeNull();
    expect(refusalBeforeCheck(verifyTotp(1900, null), given(lockedOut).state)).toBeNull();
  });

  it('tells a fresh step (worth hashing a new backup-code set for) from a used or missing one', () => {
    const state = given(enabled).state;
    expect(isFreshTimeStep(state, STEP0 + 1)).toBe(true);
    expect(isFreshTimeStep(state, STEP0)).toBe(false);
    expect(isFreshTimeStep(state, STEP0 - 1)).toBe(false);
    expect(isFreshTimeStep(state, null)).toBe(false);
    expect(isFreshTimeStep(given(pending).state, STEP0)).toBe(true);
    expect(isFreshTimeStep(given().state, STEP0)).toBe(false);
  });
});

describe('recording notices and digests', () => {
  const notice = (noticeId: string, actor: Actor = system): UserCommand => ({
    type: 'RecordNoticeSent', userId: USER, actor, at: at(500), noticeId, kind: 'two_factor_enabled', cause: 'event-1', aboutUserId: USER, messageId: `<${noticeId}@mail.test>`, sentAt: at(499),
  });
  const digest = (orgId: string, period: string, actor: Actor = system): UserCommand => ({
    type: 'RecordAdminDigestSent', userId: USER, actor, at: at(500), orgId, period, missing: 3, messageId: `<${orgId}@mail.test>`, sentAt: at(499),
  });

  it('records a notice once per notice id, and only for the service itself', () => {
    given(enabled).when(notice('n1')).thenEvents([
      { type: 'NoticeSent', data: { noticeId: 'n1', kind: 'two_factor_enabled', cause: 'event-1', aboutUserId: USER, messageId: '<n1@mail.test>', sentAt: at(499) } },
    ]);
    const sent = given(enabled).when(notice('n1')).result as UserEvent[];
    given([...enabled, ...sent]).when(notice('n1')).thenNothingHappens();
    given([...enabled, ...sent]).when(notice('n2')).thenEvents([expect.objectContaining({ type: 'NoticeSent' }) as unknown as UserEvent]);
    given(enabled).when(notice('n1', support)).thenError({ kind: 'forbidden', code: 'system_only' });
    given(enabled).when({ ...notice('n1'), kind: 'nonsense' } as unknown as UserCommand).thenError({ kind: 'invalid', code: 'invalid_notice' });
  });

  it('records a digest once per organisation and period', () => {
    const period = '2026-01-05T00:00:00.000Z';
    const sent = given(registered).when(digest('acme', period)).result as UserEvent[];
    expect(sent).toEqual([{ type: 'AdminDigestSent', data: { orgId: 'acme', period, missing: 3, messageId: '<acme@mail.test>', sentAt: at(499) } }]);
    given([...registered, ...sent]).when(digest('acme', period)).thenNothingHappens();
    given([...registered, ...sent]).when(digest('beta', period)).thenEvents([expect.objectContaining({ type: 'AdminDigestSent' }) as unknown as UserEvent]);
    given(registered).when(digest('acme', 'last week')).thenError({ kind: 'invalid', code: 'invalid_digest' });
    given(registered).when(digest('acme', period, platform)).thenError({ kind: 'forbidden', code: 'system_only' });
  });
});
