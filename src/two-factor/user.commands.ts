import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { Actor } from '../kernel/event-envelope.js';
import type { NoticeKind, ReminderCadence } from './user.events.js';

/**
 * Commands on one user's stream. `at` (ISO instant) is the handler's clock: the decider never reads
 * time itself. Plaintext codes never reach the decider: the handler decrypts the secret, checks the
 * code with totp.ts / backup-codes.ts and passes only what matched.
 */
interface UserCommandBase {
  readonly userId: string;
  readonly actor: Actor;
  readonly at: string;
}

export interface RegisterUser extends UserCommandBase {
  readonly type: 'RegisterUser';
  readonly email: EncryptedValue;
}

/** Keeps a setup still pending (nothing recorded), replaces an expired one; refused once a factor is enabled. */
export interface StartTwoFactorSetup extends UserCommandBase {
  readonly type: 'StartTwoFactorSetup';
  readonly secret: EncryptedValue;
  readonly expiresAt: string;
}

/** `matchedTimeStep`: step the code matched against the pending secret (±1 step), null for none. */
export interface ConfirmTwoFactor extends UserCommandBase {
  readonly type: 'ConfirmTwoFactor';
  readonly matchedTimeStep: number | null;
  readonly backupCodeHashes: readonly string[];
}

export interface VerifyTwoFactorWithTotp extends UserCommandBase {
  readonly type: 'VerifyTwoFactor';
  readonly method: 'totp';
  readonly matchedTimeStep: number | null;
}

/** `matchedBackupCodeIndex`: slot matched by matchBackupCode (used slots never match), null for none. */
export interface VerifyTwoFactorWithBackupCode extends UserCommandBase {
  readonly type: 'VerifyTwoFactor';
  readonly method: 'backup_code';
  readonly matchedBackupCodeIndex: number | null;
}

export type VerifyTwoFactor = VerifyTwoFactorWithTotp | VerifyTwoFactorWithBackupCode;

export interface RegenerateBackupCodes extends UserCommandBase {
  readonly type: 'RegenerateBackupCodes';
  readonly matchedTimeStep: number | null;
  readonly backupCodeHashes: readonly string[];
}

/** `enforcingOrgIds`: organisations of the user that enforce 2FA now, from the read models. */
export interface DisableTwoFactor extends UserCommandBase {
  readonly type: 'DisableTwoFactor';
  readonly matchedTimeStep: number | null;
  readonly enforcingOrgIds: readonly string[];
}

export interface ResetTwoFactor extends UserCommandBase {
  readonly type: 'ResetTwoFactor';
  readonly reason: string;
}

export interface ForgetUser extends UserCommandBase {
  readonly type: 'ForgetUser';
}

export interface RecordReminderSent extends UserCommandBase {
  readonly type: 'RecordReminderSent';
  readonly orgIds: readonly string[];
  readonly cadence: ReminderCadence;
  readonly messageId: string;
  readonly sentAt: string;
  readonly periodKey: string;
}

/** `noticeId` is the idempotency key: a second record of the same notice decides nothing. */
export interface RecordNoticeSent extends UserCommandBase {
  readonly type: 'RecordNoticeSent';
  readonly noticeId: string;
  readonly kind: NoticeKind;
  readonly cause: string;
  readonly aboutUserId: string;
  readonly messageId: string;
  readonly sentAt: string;
}

/** Once per (orgId, period) per admin: a second record decides nothing. */
export interface RecordAdminDigestSent extends UserCommandBase {
  readonly type: 'RecordAdminDigestSent';
  readonly orgId: string;
  readonly period: string;
  readonly missing: number;
  readonly messageId: string;
  readonly sentAt: string;
}

export type UserCommand =
  | RegisterUser
  | StartTwoFactorSetup
  | ConfirmTwoFactor
  | VerifyTwoFactor
  | RegenerateBackupCodes
  | DisableTwoFactor
  | ResetTwoFactor
  | ForgetUser
  | RecordReminderSent
  | RecordNoticeSent
  | RecordAdminDigestSent;
