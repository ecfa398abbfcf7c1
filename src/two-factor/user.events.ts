import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { DomainEvent } from '../kernel/event-envelope.js';

/*
 * Events of the `user-<id>` stream. Payloads are JSON and never hold a plaintext secret, code,
 * backup code or e-mail: secrets and e-mail are EncryptedValue (crypto-shredded by forgetting),
 * backup codes are slow salted hashes. Instants are ISO strings taken from the command.
 */

export type VerificationMethod = 'totp' | 'backup_code' | 'device';
export type ReminderCadence = 'soft' | 'hard';
/** Recorded so that an auditor can tell a guess from a replayed code. */
export type VerificationFailureReason = 'invalid_code' | 'code_already_used' | 'invalid_device_token' | 'device_expired';

export type UserRegistered = DomainEvent<'UserRegistered', { userId: string; email: EncryptedValue }>;

export type TwoFactorSetupStarted = DomainEvent<'TwoFactorSetupStarted', { secret: EncryptedValue; expiresAt: string }>;

/** `timeStep`: the step of the confirming code, the first one accepted for this secret. */
export type TwoFactorEnabled = DomainEvent<'TwoFactorEnabled', { timeStep: number }>;

/** Ten hashes replacing any earlier set; `timeStep` is the fresh code that authorised it. */
export type BackupCodesGenerated = DomainEvent<'BackupCodesGenerated', { hashes: string[]; timeStep: number }>;

/** A sign-in check passed; its step becomes the replay barrier for every instance. */
export type TwoFactorVerified = DomainEvent<'TwoFactorVerified', { timeStep: number; method: 'totp' }>;

export type TwoFactorVerificationFailed = DomainEvent<
  'TwoFactorVerificationFailed',
  { method: VerificationMethod; failuresInARow: number; reason: VerificationFailureReason }
>;

export type TwoFactorLockedOut = DomainEvent<'TwoFactorLockedOut', { until: string }>;

export type BackupCodeUsed = DomainEvent<'BackupCodeUsed', { index: number }>;

export type TwoFactorDisabled = DomainEvent<'TwoFactorDisabled', { timeStep: number }>;

/**
 * Support staff removed a lost factor; `by` is the staff member, `reason` their written reason. A
 * reset approved by a second agent (RESET_REQUIRES_APPROVAL) names the request, and `by` is its
 * requester, `approvedBy` the approver.
 */
export type TwoFactorReset = DomainEvent<'TwoFactorReset', { reason: string; by: string } | { reason: string; by: string; requestId: string; approvedBy: string }>;

/** One support agent asked for a reset; nothing changes until a different agent approves it before `expiresAt`. */
export type TwoFactorResetRequested = DomainEvent<'TwoFactorResetRequested', { requestId: string; by: string; reason: string; expiresAt: string }>;

/**
 * A browser the user chose to trust after a successful check: later checks from it need no code
 * until `expiresAt`. Only the SHA-256 of the 256-bit token is kept; the label is the user's own
 * text, encrypted like other personal data (null when none was given).
 */
export type TrustedDeviceRemembered = DomainEvent<
  'TrustedDeviceRemembered',
  { deviceId: string; tokenHash: string; label: EncryptedValue | null; rememberedAt: string; expiresAt: string }
>;

/** A check passed with a trusted device's token instead of a code. */
export type TrustedDeviceUsed = DomainEvent<'TrustedDeviceUsed', { deviceId: string; usedAt: string }>;

/** Why a device stopped being trusted: revoked one by one, or with the factor (reset, disable, forget), or the oldest over the limit. */
export type DeviceRevocationReason = 'revoked' | 'reset' | 'disabled' | 'forgotten' | 'limit';

export type TrustedDeviceRevoked = DomainEvent<'TrustedDeviceRevoked', { deviceId: string; by: string; reason: DeviceRevocationReason }>;

/** `periodKey` names the reminder period (e.g. cadence and day) so a retried job records once. */
export type ReminderSent = DomainEvent<
  'ReminderSent',
  { orgIds: string[]; cadence: ReminderCadence; messageId: string; sentAt: string; periodKey: string }
>;

/** The user's data key is deleted alongside: history stays verifiable, secrets and e-mail unreadable. */
export type UserForgotten = DomainEvent<'UserForgotten', Record<string, never>>;

/**
 * A security notice (NIST SP 800-63B) the SMTP server accepted, on the recipient's stream:
 * `noticeId` derives from the cause and the recipient, so a retried job records it once;
 * `aboutUserId` is whose factor changed (the recipient itself, or a member for an admin).
 */
export type NoticeKind =
  | 'two_factor_enabled'
  | 'two_factor_disabled'
  | 'two_factor_reset'
  | 'verification_locked'
  | 'backup_codes_regenerated'
  | 'backup_codes_low'
  | 'member_two_factor_reset';
export type NoticeSent = DomainEvent<
  'NoticeSent',
  { noticeId: string; kind: NoticeKind; cause: string; aboutUserId: string; messageId: string; sentAt: string }
>;

/** The admins' digest of one organisation for one period, on the admin's stream: once per (org, period). */
export type AdminDigestSent = DomainEvent<
  'AdminDigestSent',
  { orgId: string; period: string; missing: number; messageId: string; sentAt: string }
>;

export type UserEvent =
  | UserRegistered
  | TwoFactorSetupStarted
  | TwoFactorEnabled
  | BackupCodesGenerated
  | TwoFactorVerified
  | TwoFactorVerificationFailed
  | TwoFactorLockedOut
  | BackupCodeUsed
  | TwoFactorDisabled
  | TwoFactorReset
  | TwoFactorResetRequested
  | TrustedDeviceRemembered
  | TrustedDeviceUsed
  | TrustedDeviceRevoked
  | ReminderSent
  | UserForgotten
  | NoticeSent
  | AdminDigestSent;

export type UserEventType = UserEvent['type'];

export const USER_EVENT_TYPES: readonly UserEventType[] = [
  'UserRegistered',
  'TwoFactorSetupStarted',
  'TwoFactorEnabled',
  'BackupCodesGenerated',
  'TwoFactorVerified',
  'TwoFactorVerificationFailed',
  'TwoFactorLockedOut',
  'BackupCodeUsed',
  'TwoFactorDisabled',
  'TwoFactorReset',
  'TwoFactorResetRequested',
  'TrustedDeviceRemembered',
  'TrustedDeviceUsed',
  'TrustedDeviceRevoked',
  'ReminderSent',
  'UserForgotten',
  'NoticeSent',
  'AdminDigestSent',
];
