import type { Decider } from '../kernel/decider.js';
import { DomainError } from '../kernel/domain-error.js';
import type { Actor } from '../kernel/event-envelope.js';
import { isValidId } from '../kernel/ids.js';
import type {
  ConfirmTwoFactor,
  DisableTwoFactor,
  NewTrustedDevice,
  RecordAdminDigestSent,
  RecordNoticeSent,
  RecordReminderSent,
  RegenerateBackupCodes,
  RegisterUser,
  StartTwoFactorSetup,
  UserCommand,
  VerifyTwoFactor,
} from './user.commands.js';
import type { UserEvent, VerificationFailureReason, VerificationMethod } from './user.events.js';
import { assertNever } from '../kernel/assert-never.js';
import { digestKey, evolveUser, initialUserState, type FactorState, type RegisteredUser, type UserState } from './user.state.js';
import { isWithinDrift } from './totp.policy.js';
import { rememberDevice, revokeAllDevices, revokeDevice } from './trusted-device.decisions.js';
import { approveReset, requestReset, reset } from './reset-request.decisions.js';

export type { FactorState, RegisteredUser, UserState } from './user.state.js';

/** Five failed checks in a row lock verification for thirty minutes (product rules, DESIGN 1). */
export const MAX_FAILURES_IN_A_ROW = 5;
export const LOCKOUT_MILLISECONDS = 30 * 60 * 1000;
export const BACKUP_CODE_SET_SIZE = 10;

/** Roles are staff claims from the token; 'system' is the service itself (reminder saga) and never a token's. */
export const USER_ROLES = { platform: 'platform', support: 'support', operator: 'operator', system: 'system' } as const;

type Decision = readonly UserEvent[] | DomainError;
type Registered = RegisteredUser;
type Enabled = Registered & { readonly factor: Extract<FactorState, { kind: 'enabled' }> };

export function userStream(userId: string): string {
  return `user-${userId}`;
}

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: initialUserState,
  decide: decideUser,
  evolve: evolveUser,
};

export function decideUser(command: UserCommand, state: UserState): Decision {
  const refusal = refusalBeforeCheck(command, state);
  if (refusal) return refusal;
  const at = Date.parse(command.at);
  if (command.type === 'RegisterUser') return register(command, state);
  // Cannot fail after refusalBeforeCheck; asked again only to narrow the state to a registered user.
  const user = existingUser(state, command);
  if (user instanceof DomainError) return user;
  switch (command.type) {
    case 'ForgetUser':
      return [...revokeAllDevices(user, command.actor.id, 'forgotten', at), { type: 'UserForgotten', data: {} }];
    case 'StartTwoFactorSetup':
      return startSetup(command, user, at);
    case 'ConfirmTwoFactor':
      return confirm(command, user, at);
    // For these three, refusalBeforeCheck has refused anything but an enabled, unlocked factor.
    case 'VerifyTwoFactor':
      return verify(command, user as Enabled, at);
    case 'RegenerateBackupCodes':
      return regenerate(command, user as Enabled, at);
    case 'DisableTwoFactor':
      return disable(command, user as Enabled, at);
    case 'ResetTwoFactor':
      return reset(command, user, at);
    case 'RequestTwoFactorReset':
      return requestReset(command, user, at);
    case 'ApproveTwoFactorReset':
      return approveReset(command, user, at);
    case 'RevokeTrustedDevice':
      return revokeDevice(command, user, at);
    case 'RecordReminderSent':
      return recordReminder(command, user);
    case 'RecordNoticeSent':
      return recordNotice(command, user);
    case 'RecordAdminDigestSent':
      return recordDigest(command, user);
    default:
      return assertNever(command);
  }
}

/**
 * Every refusal that does not depend on the code the caller typed: who asks, the id, whether the
 * user exists, the factor's state and the lockout. Handlers ask this before they decrypt a secret,
 * match a code or hash backup codes, so an unauthorised caller or a locked-out guesser never makes
 * the server do that slow work (nor learns from its timing whether the user has a factor). decide()
 * asks it first too, so the handler's early answer and the decision cannot disagree.
 */
export function refusalBeforeCheck(command: UserCommand, state: UserState): DomainError | null {
  const refusal = authorize(command) ?? validateCommon(command);
  if (refusal || command.type === 'RegisterUser') return refusal;
  const user = existingUser(state, command);
  if (user instanceof DomainError) return user;
  const at = Date.parse(command.at);
  switch (command.type) {
    case 'StartTwoFactorSetup':
      return user.factor.kind === 'enabled' ? alreadyEnabled() : null;
    case 'ConfirmTwoFactor':
      return pendingRefusal(user, at);
    case 'VerifyTwoFactor':
    case 'RegenerateBackupCodes':
    case 'DisableTwoFactor':
      return enabledUnlockedRefusal(user, at);
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Authorisation depends on the caller and the target id only, and runs before any look at the
// state, so a caller who may not act on a user learns nothing about whether that user exists.

function authorize(command: UserCommand): DomainError | null {
  const { actor, userId } = command;
  switch (command.type) {
    case 'RegisterUser':
      return requireRole(actor, USER_ROLES.platform);
    case 'StartTwoFactorSetup':
    case 'ConfirmTwoFactor':
    case 'VerifyTwoFactor':
      return actor.id === userId || hasRole(actor, USER_ROLES.platform) ? null : forbidden('not_own_account', 'Only the user or the platform may do this');
    // Changing a factor's backup codes or removing it is the user's own decision, proven by a fresh code.
    case 'RegenerateBackupCodes':
    case 'DisableTwoFactor':
      return actor.id === userId ? null : forbidden('not_own_account', 'Only the user may do this');
    case 'ResetTwoFactor':
    case 'RequestTwoFactorReset':
    case 'ApproveTwoFactorReset':
      return requireRole(actor, USER_ROLES.support);
    case 'RevokeTrustedDevice':
      return actor.id === userId || hasRole(actor, USER_ROLES.support) ? null : forbidden('not_own_account', 'Only the user or support staff may do this');
    case 'ForgetUser':
      return requireRole(actor, USER_ROLES.operator);
    case 'RecordReminderSent':
    case 'RecordNoticeSent':
    case 'RecordAdminDigestSent':
      return requireRole(actor, USER_ROLES.system);
    default:
      return assertNever(command);
  }
}

function hasRole(actor: Actor, role: string): boolean {
  return actor.roles.includes(role);
}

function requireRole(actor: Actor, role: string): DomainError | null {
  return hasRole(actor, role) ? null : forbidden(`${role}_only`, `Only ${role} staff may do this`);
}

function forbidden(code: string, message: string): DomainError {
  return new DomainError('forbidden', code, message);
}

function validateCommon(command: UserCommand): DomainError | null {
  if (typeof command.userId !== 'string' || !isValidId(command.userId)) {
    return new DomainError('invalid', 'invalid_user_id', 'User id must be 1-128 letters, digits or _.:- starting with a letter or digit');
  }
  if (!isInstant(command.at)) return new DomainError('invalid', 'invalid_instant', 'The command time is not an ISO instant');
  return null;
}

function isInstant(value: unknown): value is string {
  return typeof value === 'string' && Number.isFinite(Date.parse(value));
}

// ---------------------------------------------------------------------------------------------
// Existence guards.

function existingUser(state: UserState, command: UserCommand): Registered | DomainError {
  switch (state.status) {
    case 'unregistered':
      return new DomainError('not_found', 'user_not_found', 'No such user');
    case 'forgotten':
      return gone();
    case 'registered':
      // The stream name is derived from the id; a mismatch is a wiring bug, never a user's doing.
      if (state.userId !== command.userId) return new DomainError('invalid', 'user_id_mismatch', 'Command addresses another user');
      return state;
    default:
      return assertNever(state);
  }
}

function gone(): DomainError {
  return new DomainError('gone', 'user_forgotten', 'This user has been forgotten');
}

function enabledUnlockedRefusal(user: Registered, at: number): DomainError | null {
  if (user.factor.kind !== 'enabled') {
    return new DomainError('conflict', 'two_factor_not_enabled', 'Two-factor authentication is not enabled');
  }
  const remaining = lockRemainingMilliseconds(user, at);
  if (remaining > 0) return lockedError(user.lockedUntil as string, remaining);
  return null;
}

/** Every "locked" answer has one shape: until when, and the seconds to wait (rounded up). */
function lockedError(lockedUntil: string, remainingMilliseconds: number): DomainError {
  return new DomainError('locked', 'verification_locked', 'Too many failed attempts; try again later', {
    lockedUntil,
    retryAfterSeconds: Math.max(1, Math.ceil(remainingMilliseconds / 1000)),
  });
}

function pendingRefusal(user: Registered, at: number): DomainError | null {
  const { factor } = user;
  if (factor.kind === 'enabled') return alreadyEnabled();
  if (factor.kind === 'none') return new DomainError('conflict', 'two_factor_not_pending', 'No two-factor setup is in progress');
  if (Date.parse(factor.expiresAt) <= at) return new DomainError('gone', 'setup_expired', 'The setup expired; start it again');
  return null;
}

function lockRemainingMilliseconds(user: Registered, at: number): number {
  return user.lockedUntil === null ? 0 : Math.max(0, Date.parse(user.lockedUntil) - at);
}

// ---------------------------------------------------------------------------------------------
// Registration and setup.

function register(command: RegisterUser, state: UserState): Decision {
  if (state.status === 'forgotten') return gone();
  if (state.status === 'registered') return new DomainError('conflict', 'user_already_registered', 'This user is already registered');
  if (!isEncryptedValue(command.email)) return new DomainError('invalid', 'invalid_email', 'E-mail must be encrypted');
  return [{ type: 'UserRegistered', data: { userId: command.userId, email: { ...command.email } } }];
}

/**
 * A setup still pending is kept, not replaced: the caller is answered with its secret again, so
 * repeated calls store one TwoFactorSetupStarted per expiry window instead of growing the stream.
 */
function startSetup(command: StartTwoFactorSetup, user: Registered, at: number): Decision {
  if (!isEncryptedValue(command.secret)) return new DomainError('invalid', 'invalid_secret', 'The secret must be encrypted');
  if (!isInstant(command.expiresAt) || Date.parse(command.expiresAt) <= at) {
    return new DomainError('invalid', 'invalid_expiry', 'A setup must expire after it starts');
  }
  if (isPendingAt(user.factor, at)) return [];
  return [{ type: 'TwoFactorSetupStarted', data: { secret: { ...command.secret }, expiresAt: command.expiresAt } }];
}

function isPendingAt(factor: FactorState, at: number): boolean {
  return factor.kind === 'pending' && Date.parse(factor.expiresAt) > at;
}

function alreadyEnabled(): DomainError {
  return new DomainError('conflict', 'two_factor_already_enabled', 'Two-factor authentication is already enabled');
}

/**
 * A wrong code here is refused without events and does not count toward the lockout: nothing is
 * protected yet (the factor is not enabled) and a guesser would only enable a factor they cannot use.
 */
function confirm(command: ConfirmTwoFactor, user: Registered, at: number): Decision {
  const invalidStep = validateStep(command.matchedTimeStep, at);
  if (invalidStep) return invalidStep;
  const failure = stepFailure(user, command.matchedTimeStep);
  if (failure) return new DomainError('invalid', failure, failure === 'invalid_code' ? 'The code is not valid' : 'This code was already used');
  // Checked after the code: the handler hashes a new set only for a code that matched.
  const invalidHashes = validateHashes(command.backupCodeHashes);
  if (invalidHashes) return invalidHashes;
  const timeStep = command.matchedTimeStep as number;
  return [
    { type: 'TwoFactorEnabled', data: { timeStep } },
    { type: 'BackupCodesGenerated', data: { hashes: [...command.backupCodeHashes], timeStep } },
  ];
}

// ---------------------------------------------------------------------------------------------
// Checks against an enabled factor. Every failure, wherever the code was typed, counts toward
// the lockout: otherwise regenerate and disable would be side doors for guessing.

function verify(command: VerifyTwoFactor, user: Enabled, at: number): Decision {
  switch (command.method) {
    case 'totp':
      return checkTotp(user, command.matchedTimeStep, at, (timeStep) =>
        withRememberedDevice([{ type: 'TwoFactorVerified', data: { timeStep, method: 'totp' } }], command.rememberDevice, user, at, command.at),
      );
    case 'backup_code': {
      const decision = verifyBackupCode(user, command.matchedBackupCodeIndex, at);
      const used = !(decision instanceof DomainError) && decision[0]?.type === 'BackupCodeUsed';
      return used ? withRememberedDevice(decision, command.rememberDevice, user, at, command.at) : decision;
    }
    case 'device':
      return verifyDevice(user, command.matchedDeviceId, at, command.at);
    default:
      return assertNever(command);
  }
}

/** A device is trusted only after a check that succeeded, in the same append. */
function withRememberedDevice(success: Decision, device: NewTrustedDevice | null | undefined, user: Enabled, at: number, atIso: string): Decision {
  if (success instanceof DomainError || !device) return success;
  const remembered = rememberDevice(device, user, at, atIso);
  return remembered instanceof DomainError ? remembered : [...success, ...remembered];
}

/** A wrong, revoked or expired device token is a failed check like a wrong code: same counter, same lockout. */
function verifyDevice(user: Enabled, deviceId: string | null, at: number, atIso: string): Decision {
  const device = deviceId === null ? undefined : user.trustedDevices.find((d) => d.deviceId === deviceId);
  if (!device) return failed(user, 'device', 'invalid_device_token', at);
  if (Date.parse(device.expiresAt) <= at) return failed(user, 'device', 'device_expired', at);
  return [{ type: 'TrustedDeviceUsed', data: { deviceId: device.deviceId, usedAt: atIso } }];
}

function verifyBackupCode(user: Enabled, index: number | null, at: number): Decision {
  if (index === null) return failed(user, 'backup_code', 'invalid_code', at);
  const slots = user.factor.backupCodeHashes;
  if (!Number.isSafeInteger(index) || index < 0 || index >= slots.length) {
    return new DomainError('invalid', 'invalid_backup_code_index', 'No such backup code slot');
  }
  if (slots[index] === null) return failed(user, 'backup_code', 'code_already_used', at);
  return [{ type: 'BackupCodeUsed', data: { index } }];
}

/** The set is checked after the code (the handler hashes one only for a code that matched), never spending the code on a bad set. */
function regenerate(command: RegenerateBackupCodes, user: Enabled, at: number): Decision {
  return checkTotp(user, command.matchedTimeStep, at, (timeStep) => {
    const invalid = validateHashes(command.backupCodeHashes);
    return invalid ?? [{ type: 'BackupCodesGenerated', data: { hashes: [...command.backupCodeHashes], timeStep } }];
  });
}

function disable(command: DisableTwoFactor, user: Enabled, at: number): Decision {
  if (!Array.isArray(command.enforcingOrgIds)) return new DomainError('invalid', 'invalid_command', 'enforcingOrgIds must be a list');
  if (command.enforcingOrgIds.length > 0) {
    return new DomainError('conflict', 'enforced_by_organisation', 'An organisation you belong to requires two-factor authentication', {
      enforcingOrgIds: [...command.enforcingOrgIds],
    });
  }
  return checkTotp(user, command.matchedTimeStep, at, (timeStep) => [...revokeAllDevices(user, command.actor.id, 'disabled', at), { type: 'TwoFactorDisabled', data: { timeStep } }]);
}

function checkTotp(user: Enabled, matchedTimeStep: number | null, at: number, onSuccess: (timeStep: number) => Decision): Decision {
  const invalid = validateStep(matchedTimeStep, at);
  if (invalid) return invalid;
  if (matchedTimeStep !== null && matchedTimeStep === user.lastAcceptedTimeStep) return justAccepted();
  const failure = stepFailure(user, matchedTimeStep);
  return failure ? failed(user, 'totp', failure, at) : onSuccess(matchedTimeStep as number);
}

/**
 * The code of the step just accepted, sent again, is a double click (or a retry after a lost
 * answer), not a guess: refused without counting toward the lockout. Twenty concurrent submissions
 * of one right code used to lock its owner out. An older step still counts as a failure.
 */
function justAccepted(): DomainError {
  return new DomainError('unprocessable', 'code_already_used', 'This code was just accepted; wait for the next one');
}

/**
 * The replay barrier lives here, not in the handler: the handler appends at the revision this
 * decision saw and decides again on conflict, so of two concurrent uses of one code exactly one wins.
 */
function stepFailure(user: Registered, matchedTimeStep: number | null): VerificationFailureReason | null {
  if (matchedTimeStep === null) return 'invalid_code';
  if (user.lastAcceptedTimeStep !== null && matchedTimeStep <= user.lastAcceptedTimeStep) return 'code_already_used';
  return null;
}

/** A step far from `at` can only come from a bug; accepting it would push the replay barrier into the future. */
function validateStep(matchedTimeStep: number | null, at: number): DomainError | null {
  if (matchedTimeStep === null) return null;
  if (Number.isSafeInteger(matchedTimeStep) && matchedTimeStep >= 0 && isWithinDrift(matchedTimeStep, at)) return null;
  return new DomainError('invalid', 'time_step_out_of_window', 'The matched time step is not within the allowed drift');
}

function failed(user: Registered, method: VerificationMethod, reason: VerificationFailureReason, at: number): UserEvent[] {
  const failuresInARow = user.failuresInARow + 1;
  const events: UserEvent[] = [{ type: 'TwoFactorVerificationFailed', data: { method, failuresInARow, reason } }];
  if (failuresInARow >= MAX_FAILURES_IN_A_ROW) {
    events.push({ type: 'TwoFactorLockedOut', data: { until: new Date(at + LOCKOUT_MILLISECONDS).toISOString() } });
  }
  return events;
}

function validateHashes(hashes: readonly string[]): DomainError | null {
  const ok =
    Array.isArray(hashes) &&
    hashes.length === BACKUP_CODE_SET_SIZE &&
    hashes.every((hash) => typeof hash === 'string' && hash.length > 0) &&
    new Set(hashes).size === hashes.length;
  if (ok) return null;
  return new DomainError('invalid', 'invalid_backup_codes', `Exactly ${BACKUP_CODE_SET_SIZE} distinct backup code hashes are required`);
}

// ---------------------------------------------------------------------------------------------
// Staff and system commands.

/** Idempotent per period: the saga may run a reminder job twice (Agenda lock expiry, retries). */
function recordReminder(command: RecordReminderSent, user: Registered): Decision {
  const invalid = validateReminder(command);
  if (invalid) return invalid;
  if (user.reminderPeriodKeys.includes(command.periodKey)) return [];
  const { orgIds, cadence, messageId, sentAt, periodKey } = command;
  return [{ type: 'ReminderSent', data: { orgIds: [...orgIds], cadence, messageId, sentAt, periodKey } }];
}

function validateReminder(command: RecordReminderSent): DomainError | null {
  const ok =
    Array.isArray(command.orgIds) &&
    command.orgIds.length > 0 &&
    command.orgIds.every((id) => typeof id === 'string' && isValidId(id)) &&
    (command.cadence === 'soft' || command.cadence === 'hard') &&
    typeof command.messageId === 'string' &&
    command.messageId.length > 0 &&
    typeof command.periodKey === 'string' &&
    command.periodKey.length > 0 &&
    isInstant(command.sentAt);
  return ok ? null : new DomainError('invalid', 'invalid_reminder', 'Reminder needs organisations, a cadence, a message id, a period and a time');
}

const NOTICE_KINDS: readonly string[] = [
  'two_factor_enabled', 'two_factor_disabled', 'two_factor_reset', 'verification_locked', 'backup_codes_regenerated', 'backup_codes_low', 'member_two_factor_reset',
];

/** Idempotent per notice: a job may run twice (lock expiry, retries), two processes may race. */
function recordNotice(command: RecordNoticeSent, user: Registered): Decision {
  const ok =
    isNonEmpty(command.noticeId) && NOTICE_KINDS.includes(command.kind) && isNonEmpty(command.cause) &&
    typeof command.aboutUserId === 'string' && isValidId(command.aboutUserId) && isNonEmpty(command.messageId) && isInstant(command.sentAt);
  if (!ok) return new DomainError('invalid', 'invalid_notice', 'A notice needs an id, a kind, a cause, a subject, a message id and a time');
  if (user.noticeIds.includes(command.noticeId)) return [];
  const { noticeId, kind, cause, aboutUserId, messageId, sentAt } = command;
  return [{ type: 'NoticeSent', data: { noticeId, kind, cause, aboutUserId, messageId, sentAt } }];
}

/** Once per organisation and period: the append is conditional, so of two racing processes one records. */
function recordDigest(command: RecordAdminDigestSent, user: Registered): Decision {
  const ok =
    typeof command.orgId === 'string' && isValidId(command.orgId) && isInstant(command.period) &&
    Number.isSafeInteger(command.missing) && command.missing >= 0 && isNonEmpty(command.messageId) && isInstant(command.sentAt);
  if (!ok) return new DomainError('invalid', 'invalid_digest', 'A digest needs an organisation, a period, a count, a message id and a time');
  if (user.digestKeys.includes(digestKey(command.orgId, command.period))) return [];
  const { orgId, period, missing, messageId, sentAt } = command;
  return [{ type: 'AdminDigestSent', data: { orgId, period, missing, messageId, sentAt } }];
}

function isNonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

function isEncryptedValue(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const fields = ['keyId', 'iv', 'ciphertext', 'tag'] as const;
  const record = value as Record<string, unknown>;
  return fields.every((field) => typeof record[field] === 'string' && (record[field] as string).length > 0);
}

// ---------------------------------------------------------------------------------------------
// Selectors for handlers and read models.

export type TwoFactorStatus = 'unregistered' | 'forgotten' | 'none' | 'pending' | 'enabled';

export function twoFactorStatus(state: UserState): TwoFactorStatus {
  return state.status === 'registered' ? state.factor.kind : state.status;
}

/** The instant until which verification is refused, or null when not locked at `at`. */
export function lockedUntilAt(state: UserState, at: Date): string | null {
  if (state.status !== 'registered' || state.lockedUntil === null) return null;
  return Date.parse(state.lockedUntil) > at.getTime() ? state.lockedUntil : null;
}

/** Whether a matched step is newer than every step accepted so far, i.e. a code that can still succeed. */
export function isFreshTimeStep(state: UserState, matchedTimeStep: number | null): boolean {
  return state.status === 'registered' && matchedTimeStep !== null && stepFailure(state, matchedTimeStep) === null;
}

export function remainingBackupCodes(state: UserState): number {
  if (state.status !== 'registered' || state.factor.kind !== 'enabled') return 0;
  return state.factor.backupCodeHashes.filter((hash) => hash !== null).length;
}

/** What a handler tells the caller after a check that was decided (and recorded) as a failure. */
export interface FailedCheck {
  readonly reason: VerificationFailureReason;
  readonly lockedUntil: string | null;
}

export function failedCheck(events: readonly UserEvent[]): FailedCheck | null {
  const failure = events.find((e) => e.type === 'TwoFactorVerificationFailed');
  if (!failure || failure.type !== 'TwoFactorVerificationFailed') return null;
  const lock = events.find((e) => e.type === 'TwoFactorLockedOut');
  return { reason: failure.data.reason, lockedUntil: lock?.type === 'TwoFactorLockedOut' ? lock.data.until : null };
}
