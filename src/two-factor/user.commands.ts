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

/** A device to trust once the check succeeds: the token's SHA-256 and the encrypted label only. */
export interface NewTrustedDevice {
  readonly deviceId: string;
  readonly tokenHash: string;
  readonly label: EncryptedValue | null;
  readonly expiresAt: string;
}

export interface VerifyTwoFactorWithTotp extends UserCommandBase {
  readonly type: 'VerifyTwoFactor';
  readonly method: 'totp';
  readonly matchedTimeStep: number | null;
  readonly rememberDevice?: NewTrustedDevice | null;
}

/** `matchedBackupCodeIndex`: slot matched by matchBackupCode (used slots never match), null for none. */
export interface VerifyTwoFactorWithBackupCode extends UserCommandBase {
  readonly type: 'VerifyTwoFactor';
  readonly method: 'backup_code';
  readonly matchedBackupCodeIndex: number | null;
  readonly rememberDevice?: NewTrustedDevice | null;
}

/** `matchedDeviceId`: the trusted device whose token hash matched (expired ones included), null for none. */
export interface VerifyTwoFactorWithDevice extends UserCommandBase {
  readonly type: 'VerifyTwoFactor';
  readonly method: 'device';
  readonly matchedDeviceId: string | null;
}

export type VerifyTwoFactor = VerifyTwoFactorWithTotp | VerifyTwoFactorWithBackupCode | VerifyTwoFactorWithDevice;

/** The user or support stops trusting one device. */
export interface RevokeTrustedDevice extends UserCommandBase {
  readonly type: 'RevokeTrustedDevice';
  readonly deviceId: string;
}

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

/** RESET_REQUIRES_APPROVAL: the first agent's half of a two-person reset. */
export interface RequestTwoFactorReset extends UserCommandBase {
  readonly type: 'RequestTwoFactorReset';
  readonly reason: string;
  readonly requestId: string;
  readonly expiresAt: string;
}

/** The second agent's half: resets the factor if the request is still pending at `at`. */
export interface ApproveTwoFactorReset extends UserCommandBase {
  readonly type: 'ApproveTwoFactorReset';
  readonly requestId: string;
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
  | RequestTwoFactorReset
  | ApproveTwoFactorReset
  | RevokeTrustedDevice
  | ForgetUser
  | RecordReminderSent
  | RecordNoticeSent
  | RecordAdminDigestSent;
