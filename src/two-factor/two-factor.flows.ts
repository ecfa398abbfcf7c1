import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import QRCode from 'qrcode';
import type { Config } from '../config/config.js';
import type { CommandContext, CommandOutcome, CommandSource } from '../kernel/command-handling.js';
import { DomainError } from '../kernel/domain-error.js';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import { Problem } from '../http/problem.js';
import type { PersonalDataCipher } from '../infrastructure/crypto/personal-data.cipher.js';
import type { ReadStore } from '../infrastructure/read-store/read-store.port.js';
import { CONFIG, PERSONAL_DATA_CIPHER, READ_STORE } from '../infrastructure/runtime.tokens.js';
import { ORGANISATIONS, USERS, type OrganisationDoc, type UserDoc } from '../organisations/directory.projection.js';
import { generateBackupCodes, hashBackupCode, matchBackupCode } from './backup-codes.js';
import { generateTotpSecret, matchTimeStep, totpUri } from './totp.js';
import { UserCommandMessage } from './user.command-message.js';
import type { UserCommand } from './user.commands.js';
import { failedCheck } from './user.decider.js';
import type { UserEvent } from './user.events.js';
import type { FactorState, UserState } from './user.state.js';

const SETUP_LIFETIME_MS = 15 * 60 * 1000;
export const EMAIL_PURPOSE = 'email';
export const SECRET_PURPOSE = 'totp-secret';

export interface SetupAnswer { readonly otpauthUri: string; readonly qrCodeSvg: string; readonly expiresAt: string }
export interface BackupCodesAnswer { readonly backupCodes: readonly string[] }
export type Outcome = CommandOutcome<UserEvent>;

/**
 * The user's two-factor flows. Plaintext secrets and codes live only inside these functions: the
 * secret is decrypted from the state being decided on, the code is matched here, and the decider
 * receives only the matched step or backup-code slot.
 */
@Injectable()
export class TwoFactorFlows {
  constructor(
    private readonly commands: CommandBus,
    @Inject(PERSONAL_DATA_CIPHER) private readonly cipher: PersonalDataCipher,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async register(userId: string, email: string, context: CommandContext): Promise<Outcome> {
    const encrypted = await this.encrypt(userId, EMAIL_PURPOSE, email);
    return this.send(userId, { type: 'RegisterUser', userId, email: encrypted, actor: context.actor, at: context.now.toISOString() }, context);
  }

  async startSetup(userId: string, context: CommandContext): Promise<{ outcome: Outcome; answer: SetupAnswer }> {
    const secret = generateTotpSecret();
    const expiresAt = new Date(context.now.getTime() + SETUP_LIFETIME_MS).toISOString();
    const encrypted = await this.encrypt(userId, SECRET_PURPOSE, secret);
    const outcome = await this.send(userId, { type: 'StartTwoFactorSetup', userId, secret: encrypted, expiresAt, actor: context.actor, at: context.now.toISOString() }, context);
    const otpauthUri = totpUri({ secret, issuer: this.config.TOTP_ISSUER, accountName: userId });
    const qrCodeSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { outcome, answer: { otpauthUri, qrCodeSvg, expiresAt } };
  }

  async confirm(userId: string, code: string, context: CommandContext): Promise<{ outcome: Outcome; answer: BackupCodesAnswer }> {
    const { codes, hashes } = await newBackupCodes();
    const outcome = await this.send(userId, {
      fromState: async (state) => ({ type: 'ConfirmTwoFactor', userId, matchedTimeStep: await this.matchCode(userId, state, 'pending', code, context.now), backupCodeHashes: hashes, actor: context.actor, at: context.now.toISOString() }),
    }, context);
    rejectFailedCheck(outcome);
    return { outcome, answer: { backupCodes: codes } };
  }

  async verifyCode(userId: string, code: string, context: CommandContext): Promise<Outcome> {
    const outcome = await this.send(userId, {
      fromState: async (state) => ({ type: 'VerifyTwoFactor', method: 'totp', userId, matchedTimeStep: await this.matchCode(userId, state, 'enabled', code, context.now), actor: context.actor, at: context.now.toISOString() }),
    }, context);
    return rejectFailedCheck(outcome);
  }

  async verifyBackupCode(userId: string, backupCode: string, context: CommandContext): Promise<Outcome> {
    const outcome = await this.send(userId, {
      fromState: async (state) => ({ type: 'VerifyTwoFactor', method: 'backup_code', userId, matchedBackupCodeIndex: await matchBackupCode(backupCode, backupSlots(state)), actor: context.actor, at: context.now.toISOString() }),
    }, context);
    return rejectFailedCheck(outcome);
  }

  async regenerateBackupCodes(userId: string, code: string, context: CommandContext): Promise<{ outcome: Outcome; answer: BackupCodesAnswer }> {
    const { codes, hashes } = await newBackupCodes();
    const outcome = await this.send(userId, {
      fromState: async (state) => ({ type: 'RegenerateBackupCodes', userId, matchedTimeStep: await this.matchCode(userId, state, 'enabled', code, context.now), backupCodeHashes: hashes, actor: context.actor, at: context.now.toISOString() }),
    }, context);
    rejectFailedCheck(outcome);
    return { outcome, answer: { backupCodes: codes } };
  }

  async disable(userId: string, code: string, context: CommandContext): Promise<Outcome> {
    const outcome = await this.send(userId, {
      fromState: async (state) => ({ type: 'DisableTwoFactor', userId, matchedTimeStep: await this.matchCode(userId, state, 'enabled', code, context.now), enforcingOrgIds: await this.enforcingOrgIds(userId), actor: context.actor, at: context.now.toISOString() }),
    }, context);
    return rejectFailedCheck(outcome);
  }

  async reset(userId: string, reason: string, context: CommandContext): Promise<Outcome> {
    return this.send(userId, { type: 'ResetTwoFactor', userId, reason, actor: context.actor, at: context.now.toISOString() }, context);
  }

  async forget(userId: string, context: CommandContext): Promise<Outcome> {
    return this.send(userId, { type: 'ForgetUser', userId, actor: context.actor, at: context.now.toISOString() }, context);
  }

  private send(userId: string, source: CommandSource<UserCommand, UserState>, context: CommandContext): Promise<Outcome> {
    return this.commands.execute(new UserCommandMessage(userId, source, context));
  }

  private async encrypt(userId: string, purpose: string, plaintext: string): Promise<EncryptedValue> {
    try {
      return await this.cipher.encrypt(userId, purpose, plaintext);
    } catch (error) {
      if ((error as Error).name === 'DataKeyShreddedError') throw new DomainError('gone', 'user_forgotten', 'This user has been forgotten.');
      throw error;
    }
  }

  /**
   * The step the code matches against the secret of the expected factor, or null. A wrong code is
   * matched against a throwaway secret so that refusal takes as long as a real check.
   */
  private async matchCode(userId: string, state: UserState, kind: 'pending' | 'enabled', code: string, at: Date): Promise<number | null> {
    const factor: FactorState | null = state.status === 'registered' ? state.factor : null;
    if (!factor || factor.kind !== kind) {
      matchTimeStep({ secret: THROWAWAY_SECRET, code, at });
      return null;
    }
    const decrypted = await this.cipher.decrypt(userId, SECRET_PURPOSE, factor.secret);
    if (decrypted.status === 'shredded') return null;
    return matchTimeStep({ secret: decrypted.plaintext, code, at });
  }

  /** Organisations the user belongs to that enforce 2FA now (read models: eventually consistent). */
  private async enforcingOrgIds(userId: string): Promise<string[]> {
    const user = await this.readStore.get<UserDoc>(USERS, userId);
    const orgs = await Promise.all((user?.memberships ?? []).map((m) => this.readStore.get<OrganisationDoc>(ORGANISATIONS, m.orgId)));
    return orgs.filter((org): org is OrganisationDoc => org !== null && org.mode !== 'off').map((org) => org.id);
  }
}

const THROWAWAY_SECRET = generateTotpSecret();

async function newBackupCodes(): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = generateBackupCodes();
  return { codes, hashes: await Promise.all(codes.map(hashBackupCode)) };
}

function backupSlots(state: UserState): readonly (string | null)[] {
  if (state.status === 'registered' && state.factor.kind === 'enabled') return state.factor.backupCodeHashes;
  return new Array<null>(10).fill(null);
}

/**
 * A failed check is recorded (it counts toward the lockout) and then refused: 422 for a wrong or
 * replayed code, 429 with Retry-After when this failure locked verification.
 */
function rejectFailedCheck(outcome: Outcome): Outcome {
  const failure = failedCheck(outcome.events);
  if (!failure) return outcome;
  if (failure.lockedUntil) {
    const retryAfter = Math.max(1, Math.ceil((Date.parse(failure.lockedUntil) - Date.now()) / 1000));
    throw new Problem(429, 'verification_locked', 'Too many failed checks; verification is locked for a while.', { headers: { 'retry-after': String(retryAfter) }, lockedUntil: failure.lockedUntil, retryAfterSeconds: retryAfter });
  }
  const detail = failure.reason === 'code_already_used' ? 'This code has already been used; wait for the next one.' : 'The code is not valid.';
  throw new Problem(422, failure.reason, detail, { revision: outcome.revision, position: outcome.position });
}
