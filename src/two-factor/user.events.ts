import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { DomainEvent } from '../kernel/event-envelope.js';

/*
 * Events of the `user-<id>` stream. Payloads are JSON and never hold a plaintext secret, code,
 * backup code or e-mail: secrets and e-mail are EncryptedValue (crypto-shredded by forgetting),
 * backup codes are slow salted hashes. Instants are ISO strings taken from the command.
 */

export type VerificationMethod = 'totp' | 'backup_code';
export type ReminderCadence = 'soft' | 'hard';
/** Recorded so that an auditor can tell a guess from a replayed code. */
export type VerificationFailureReason = 'invalid_code' | 'code_already_used';

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

/** Support staff removed a lost factor; `by` is the staff member, `reason` their written reason. */
export type TwoFactorReset = DomainEvent<'TwoFactorReset', { reason: string; by: string }>;

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
  'ReminderSent',
  'UserForgotten',
  'NoticeSent',
  'AdminDigestSent',
];
