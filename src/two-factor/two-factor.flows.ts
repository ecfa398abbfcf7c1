import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import QRCode from 'qrcode';
import type { Config } from '../config/config.js';
import { handleCommand, type CommandContext, type CommandOutcome, type CommandSource } from '../application/command-handling.js';
import { fold } from '../kernel/decider.js';
import { DomainError, isDomainError } from '../kernel/domain-error.js';
import { derivedEventId, derivedResourceId, newId } from '../kernel/ids.js';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CONFIG, EVENT_STORE, PERSONAL_DATA_CIPHER, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import { awaitReadModels, type ReadModelProgress } from '../projections/read-model-progress.js';
import { ORGANISATIONS, USERS, type OrganisationDoc, type UserDoc } from '../organisations/directory.projection.js';
import { BackupCodeHasher } from './backup-code.hasher.js';
import { generateBackupCodes } from './backup-codes.js';
import { generateTotpSecret, matchTimeStep, totpUri } from './totp.js';
import { UserCommandMessage } from './user.command-message.js';
import type { NewTrustedDevice, UserCommand, VerifyTwoFactor } from './user.commands.js';
import { matchDeviceToken, newDeviceToken } from './device-token.js';
import { RESET_REQUEST_LIFETIME_MS } from './reset-request.decisions.js';
import { failedCheck, isFreshTimeStep, refusalBeforeCheck, userDecider, userStream } from './user.decider.js';
import { emailClaimDecider, emailClaimStream, normaliseEmail, type ClaimEmail, type EmailClaimEvent, type HolderStatus } from './email-claim.decider.js';
import type { UserEvent, VerificationFailureReason } from './user.events.js';
import type { FactorState, TrustedDevice, UserState } from './user.state.js';

const SETUP_LIFETIME_MS = 15 * 60 * 1000;
export const EMAIL_PURPOSE = 'email';
export const SECRET_PURPOSE = 'totp-secret';
/** The user's own words for a trusted device: personal data, encrypted under the user's data key. */
export const DEVICE_LABEL_PURPOSE = 'device-label';
const DAY_MS = 86_400_000;

export interface SetupAnswer { readonly otpauthUri: string; readonly qrCodeSvg: string; readonly expiresAt: string }
export interface BackupCodesAnswer { readonly backupCodes: readonly string[] }
export type Outcome = CommandOutcome<UserEvent>;
/** "Remember this device" asked with a check; `label` already trimmed and validated. */
export interface RememberDevice { readonly label: string | null }
/** The device token, shown once in the answer that created it. */
export interface IssuedDevice { readonly deviceId: string; readonly deviceToken: string; readonly expiresAt: string }
export type VerifyOutcome = Outcome & { readonly device: IssuedDevice | null };
/** A reset that waits for a second agent (RESET_REQUIRES_APPROVAL), or null when it was done at once. */
export interface PendingReset { readonly requestId: string; readonly expiresAt: string }

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
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(CONFIG) private readonly config: Config,
    private readonly hasher: BackupCodeHasher,
  ) {}

  /**
   * Claims the address (409 `email_in_use` while another live user holds it) before anything is
   * written for the user, and gives it back if the registration then fails.
   */
  async register(userId: string, email: string, context: CommandContext): Promise<Outcome> {
    authorizeBeforeEncrypting({ type: 'RegisterUser', userId, email: PLACEHOLDER, actor: context.actor, at: context.now.toISOString() });
    await this.refuseBeforeClaiming(userId, context);
    const claimStream = emailClaimStream(this.cipher.blindIndex(EMAIL_PURPOSE, normaliseEmail(email)));
    const claim = await this.claimEmail(claimStream, userId, context);
    try {
      const encrypted = await this.encrypt(userId, EMAIL_PURPOSE, email);
      return await this.send(userId, { type: 'RegisterUser', userId, email: encrypted, actor: context.actor, at: context.now.toISOString() }, context);
    } catch (error) {
      if (claim.events.length > 0) await this.releaseEmail(claimStream, userId, context);
      throw error;
    }
  }

  /** A registration the user's stream already refuses (registered, forgotten) must not touch the address. */
  private async refuseBeforeClaiming(userId: string, context: CommandContext): Promise<void> {
    const history = (await this.eventStore.readStream(userStream(userId))) as unknown as Array<UserEvent & { metadata: { eventId: string } }>;
    // A retry of this very registration is answered by the command handling with what it stored.
    if (history.some((event) => event.metadata.eventId === derivedEventId(context.commandId, 0))) return;
    const decision = userDecider.decide({ type: 'RegisterUser', userId, email: PLACEHOLDER, actor: context.actor, at: context.now.toISOString() }, fold(userDecider, history));
    if (isDomainError(decision)) throw decision;
  }

  /**
   * Decided afresh on every attempt (a new command id each time), never answered from an earlier
   * attempt: that attempt's claim may have been released since, and a retry must claim again.
   * A claim the user already holds decides to nothing, so a retry appends nothing.
   */
  private claimEmail(stream: string, userId: string, context: CommandContext): Promise<CommandOutcome<EmailClaimEvent>> {
    const at = context.now.toISOString();
    return handleCommand(this.eventStore, emailClaimDecider, stream, {
      fromState: async (state): Promise<ClaimEmail> => ({ type: 'ClaimEmail', userId, at, holderStatus: state.holder === null ? null : await this.holderStatus(state.holder.userId) }),
    }, { ...context, commandId: `${context.commandId}|email-claim|${newId()}` });
  }

  private async releaseEmail(stream: string, userId: string, context: CommandContext): Promise<void> {
    await handleCommand(this.eventStore, emailClaimDecider, stream, { type: 'ReleaseEmail', userId }, { ...context, commandId: `${context.commandId}|email-release|${newId()}` });
  }

  private async holderStatus(holderId: string): Promise<HolderStatus> {
    const history = (await this.eventStore.readStream(userStream(holderId))) as unknown as UserEvent[];
    return fold(userDecider, history).status;
  }

  async startSetup(userId: string, context: CommandContext): Promise<{ outcome: Outcome; answer: SetupAnswer }> {
    const proposed = generateTotpSecret();
    const proposedExpiry = new Date(context.now.getTime() + SETUP_LIFETIME_MS).toISOString();
    refuseForbidden({ type: 'StartTwoFactorSetup', userId, secret: PLACEHOLDER, expiresAt: proposedExpiry, actor: context.actor, at: context.now.toISOString() });
    // Built before anything is stored: what cannot be shown must not leave a setup nobody can scan.
    const proposedAnswer = await this.setupAnswer(userId, proposed, proposedExpiry);
    const encrypted = await this.encrypt(userId, SECRET_PURPOSE, proposed);
    const command: UserCommand = { type: 'StartTwoFactorSetup', userId, secret: encrypted, expiresAt: proposedExpiry, actor: context.actor, at: context.now.toISOString() };
    // The state the decision was made on holds the pending setup the decider kept, if it kept one.
    let decidedOn: UserState = userDecider.initialState;
    const outcome = await this.send(userId, {
      fromState: (state) => {
        decidedOn = state;
        return command;
      },
    }, context);
    const shown = await this.setupShown(userId, outcome, decidedOn, encrypted);
    return { outcome, answer: shown ? await this.setupAnswer(userId, shown.secret, shown.expiresAt) : proposedAnswer };
  }

  async confirm(userId: string, code: string, context: CommandContext): Promise<{ outcome: Outcome; answer: BackupCodesAnswer }> {
    const backupCodes = new NewBackupCodes(this.hasher);
    const unchecked: UserCommand = { type: 'ConfirmTwoFactor', userId, matchedTimeStep: null, backupCodeHashes: [], actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, async () => {
        const matchedTimeStep = await this.matchCode(userId, state, code, context.now);
        return { ...unchecked, matchedTimeStep, backupCodeHashes: isFreshTimeStep(state, matchedTimeStep) ? await backupCodes.hashes() : [] };
      }),
    }, context).catch(asFailedCheck);
    return { outcome, answer: { backupCodes: issuedCodes(outcome, backupCodes.codes, backupCodes.computed(), context.now) } };
  }

  async verifyCode(userId: string, code: string, context: CommandContext, remember: RememberDevice | null = null): Promise<VerifyOutcome> {
    const device = this.deviceToIssue(remember, context.now);
    const unchecked: VerifyTwoFactor = { type: 'VerifyTwoFactor', method: 'totp', userId, matchedTimeStep: null, actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, async () => {
        const matchedTimeStep = await this.matchCode(userId, state, code, context.now);
        const rememberDevice = device && isFreshTimeStep(state, matchedTimeStep) ? await device.command(this.cipher, userId) : null;
        return { ...unchecked, matchedTimeStep, rememberDevice };
      }),
    }, context);
    return issuedDevice(rejectFailedCheck(refuseStaleVerification(outcome, context.now), context.now), device);
  }

  async verifyBackupCode(userId: string, backupCode: string, context: CommandContext, remember: RememberDevice | null = null): Promise<VerifyOutcome> {
    const device = this.deviceToIssue(remember, context.now);
    const unchecked: VerifyTwoFactor = { type: 'VerifyTwoFactor', method: 'backup_code', userId, matchedBackupCodeIndex: null, actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, async () => {
        const matchedBackupCodeIndex = await this.hasher.match(backupCode, backupSlots(state));
        const rememberDevice = device && matchedBackupCodeIndex !== null ? await device.command(this.cipher, userId) : null;
        return { ...unchecked, matchedBackupCodeIndex, rememberDevice };
      }),
    }, context);
    return issuedDevice(rejectFailedCheck(refuseStaleVerification(outcome, context.now), context.now), device);
  }

  /** A check with a trusted device's token instead of a code; a wrong one counts toward the lockout. */
  async verifyDevice(userId: string, deviceToken: string, context: CommandContext): Promise<Outcome> {
    const unchecked: VerifyTwoFactor = { type: 'VerifyTwoFactor', method: 'device', userId, matchedDeviceId: null, actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, () => Promise.resolve({ ...unchecked, matchedDeviceId: matchDeviceToken(deviceToken, trustedDevices(state)) })),
    }, context);
    return rejectFailedCheck(refuseStaleVerification(outcome, context.now), context.now);
  }

  async revokeDevice(userId: string, deviceId: string, context: CommandContext): Promise<Outcome> {
    return this.send(userId, { type: 'RevokeTrustedDevice', userId, deviceId, actor: context.actor, at: context.now.toISOString() }, context);
  }

  private deviceToIssue(remember: RememberDevice | null, now: Date): DeviceToIssue | null {
    return remember ? new DeviceToIssue(remember.label, new Date(now.getTime() + this.config.TRUSTED_DEVICE_DAYS * DAY_MS).toISOString()) : null;
  }

  async regenerateBackupCodes(userId: string, code: string, context: CommandContext): Promise<{ outcome: Outcome; answer: BackupCodesAnswer }> {
    const backupCodes = new NewBackupCodes(this.hasher);
    const unchecked: UserCommand = { type: 'RegenerateBackupCodes', userId, matchedTimeStep: null, backupCodeHashes: [], actor: context.actor, at: context.now.toISOString() };
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, async () => {
        const matchedTimeStep = await this.matchCode(userId, state, code, context.now);
        return { ...unchecked, matchedTimeStep, backupCodeHashes: isFreshTimeStep(state, matchedTimeStep) ? await backupCodes.hashes() : [] };
      }),
    }, context);
    return { outcome, answer: { backupCodes: issuedCodes(outcome, backupCodes.codes, backupCodes.computed(), context.now) } };
  }

  async disable(userId: string, code: string, context: CommandContext): Promise<Outcome> {
    const unchecked: UserCommand = { type: 'DisableTwoFactor', userId, matchedTimeStep: null, enforcingOrgIds: [], actor: context.actor, at: context.now.toISOString() };
    // Authorisation needs no state: a caller who may not disable is refused before the wait below.
    refuseForbidden(unchecked);
    await this.readModelsUpToNow();
    const outcome = await this.send(userId, {
      fromState: (state) => checked(state, unchecked, async () => ({
        ...unchecked,
        matchedTimeStep: await this.matchCode(userId, state, code, context.now),
        enforcingOrgIds: await this.enforcingOrgIds(userId),
      })),
    }, context);
    return rejectFailedCheck(outcome, context.now);
  }

  /** With RESET_REQUIRES_APPROVAL the reset waits for a second agent: the answer then names the request. */
  async reset(userId: string, reason: string, context: CommandContext): Promise<{ outcome: Outcome; pending: PendingReset | null }> {
    const at = context.now.toISOString();
    if (!this.config.RESET_REQUIRES_APPROVAL) return { outcome: await this.send(userId, { type: 'ResetTwoFactor', userId, reason, actor: context.actor, at }, context), pending: null };
    // Derived from the command id: a retried request names the same request id.
    const requestId = derivedResourceId(context.commandId);
    const expiresAt = new Date(context.now.getTime() + RESET_REQUEST_LIFETIME_MS).toISOString();
    const outcome = await this.send(userId, { type: 'RequestTwoFactorReset', userId, reason, requestId, expiresAt, actor: context.actor, at }, context);
    const requested = outcome.events.find((e) => e.type === 'TwoFactorResetRequested');
    if (requested?.type !== 'TwoFactorResetRequested') throw new Error('a reset request was answered without being recorded');
    return { outcome, pending: { requestId: requested.data.requestId, expiresAt: requested.data.expiresAt } };
  }

  async approveReset(userId: string, requestId: string, context: CommandContext): Promise<Outcome> {
    return this.send(userId, { type: 'ApproveTwoFactorReset', userId, requestId, actor: context.actor, at: context.now.toISOString() }, context);
  }

  async forget(userId: string, context: CommandContext): Promise<Outcome> {
    return this.send(userId, { type: 'ForgetUser', userId, actor: context.actor, at: context.now.toISOString() }, context);
  }

  private async setupAnswer(userId: string, secret: string, expiresAt: string): Promise<SetupAnswer> {
    const otpauthUri = totpUri({ secret, issuer: this.config.TOTP_ISSUER, accountName: userId });
    const qrCodeSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { otpauthUri, qrCodeSvg, expiresAt };
  }

  /**
   * The setup to show when it is not the one proposed by this request: the pending setup the decider
   * kept (no event), or the one a retry under the same Idempotency-Key stored first. Null: ours.
   */
  private async setupShown(userId: string, outcome: Outcome, decidedOn: UserState, proposed: EncryptedValue): Promise<{ secret: string; expiresAt: string } | null> {
    const started = outcome.events.find((e) => e.type === 'TwoFactorSetupStarted');
    if (started?.type === 'TwoFactorSetupStarted' && started.data.secret.ciphertext === proposed.ciphertext) return null;
    const setup = started?.type === 'TwoFactorSetupStarted' ? started.data : pendingSetup(decidedOn);
    const stored = await this.cipher.decrypt(userId, SECRET_PURPOSE, setup.secret);
    if (stored.status === 'shredded') throw new DomainError('gone', 'user_forgotten', 'This user has been forgotten.');
    return { secret: stored.plaintext, expiresAt: setup.expiresAt };
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
   * The step the code matches against the factor's secret, or null. Asked only once
   * refusalBeforeCheck passed, so the factor is the one the command expects (pending or enabled).
   */
  private async matchCode(userId: string, state: UserState, code: string, at: Date): Promise<number | null> {
    if (state.status !== 'registered' || state.factor.kind === 'none') return null;
    const decrypted = await this.cipher.decrypt(userId, SECRET_PURPOSE, state.factor.secret);
    if (decrypted.status === 'shredded') return null;
    return matchTimeStep({ secret: decrypted.plaintext, code, at });
  }

  /**
   * The enforcement rule for disabling is decided on read models, which trail the store. Waiting
   * until they have seen every event appended so far means a mode just switched on, or a membership
   * just added, cannot be missed; past the bound the request is refused (503), never decided stale.
   */
  private async readModelsUpToNow(): Promise<void> {
    const head = await this.eventStore.headPosition();
    if (head !== null) await awaitReadModels(this.progress, head, this.config.READ_YOUR_WRITES_TIMEOUT_MS);
  }

  /** Organisations the user belongs to that enforce 2FA, as of the read models' position. */
  private async enforcingOrgIds(userId: string): Promise<string[]> {
    const user = await this.readStore.get<UserDoc>(USERS, userId);
    const orgs = await Promise.all((user?.memberships ?? []).map((m) => this.readStore.get<OrganisationDoc>(ORGANISATIONS, m.orgId)));
    return orgs.filter((org): org is OrganisationDoc => org !== null && org.mode !== 'off').map((org) => org.id);
  }
}

const PLACEHOLDER: EncryptedValue = { keyId: 'placeholder', iv: 'placeholder', ciphertext: 'placeholder', tag: 'placeholder' };

/**
 * Encrypting creates the user's data key, a write. The decider authorises on the caller and the
 * target id before it looks at any state, so deciding against an empty history refuses an
 * unauthorised caller before that write, and before a forgotten user's 410 could tell them anything.
 */
function authorizeBeforeEncrypting(command: UserCommand): void {
  const decision = userDecider.decide(command, userDecider.initialState);
  if (decision instanceof DomainError && decision.kind === 'forbidden') throw decision;
}

/** Nothing is refused whatever the code says: then, and only then, is the code checked. */
function checked<C extends UserCommand>(state: UserState, unchecked: C, check: () => Promise<C>): C | Promise<C> {
  return refusalBeforeCheck(unchecked, state) ? unchecked : check();
}

/**
 * Authorisation depends on the caller and the id only, so an unauthorised caller is refused before
 * any state is read, any key is created (encrypting) or any read model is waited for.
 */
function refuseForbidden(command: UserCommand): void {
  const refusal = refusalBeforeCheck(command, userDecider.initialState);
  if (refusal?.kind === 'forbidden') throw refusal;
}

function pendingSetup(state: UserState): { secret: EncryptedValue; expiresAt: string } {
  if (state.status === 'registered' && state.factor.kind === 'pending') return state.factor;
  throw new Error('a setup was answered without a setup pending');
}

/** A device token made for one request; the label is encrypted only once a check matched. */
class DeviceToIssue {
  readonly deviceId = newId();
  private readonly minted = newDeviceToken();

  constructor(
    private readonly label: string | null,
    readonly expiresAt: string,
  ) {}

  get token(): string {
    return this.minted.token;
  }

  get hash(): string {
    return this.minted.hash;
  }

  async command(cipher: PersonalDataCipher, userId: string): Promise<NewTrustedDevice> {
    const label = this.label === null ? null : await cipher.encrypt(userId, DEVICE_LABEL_PURPOSE, this.label);
    return { deviceId: this.deviceId, tokenHash: this.hash, label, expiresAt: this.expiresAt };
  }
}

/**
 * The token is in this answer only. A retry answered from the first attempt's events (its
 * idempotency record gone) cannot show that attempt's token: refused, as for backup codes.
 */
function issuedDevice(outcome: Outcome, device: DeviceToIssue | null): VerifyOutcome {
  if (!device) return { ...outcome, device: null };
  const remembered = outcome.events.find((e) => e.type === 'TrustedDeviceRemembered');
  if (remembered?.type === 'TrustedDeviceRemembered' && remembered.data.tokenHash === device.hash) {
    return { ...outcome, device: { deviceId: remembered.data.deviceId, deviceToken: device.token, expiresAt: remembered.data.expiresAt } };
  }
  throw new DomainError('conflict', 'device_token_already_issued', 'The device token was shown in the answer to the first attempt of this request; verify again to remember this device.');
}

function trustedDevices(state: UserState): readonly TrustedDevice[] {
  return state.status === 'registered' ? state.trustedDevices : [];
}

/** A new set of backup codes, hashed (ten scrypt runs) at most once per request and only when needed. */
class NewBackupCodes {
  readonly codes = generateBackupCodes();
  private hashing: Promise<string[]> | null = null;
  private done: readonly string[] = [];

  constructor(private readonly hasher: BackupCodeHasher) {}

  hashes(): Promise<string[]> {
    this.hashing ??= Promise.all(this.codes.map((code) => this.hasher.hash(code))).then((hashes) => {
      this.done = hashes;
      return hashes;
    });
    return this.hashing;
  }

  /** The hashes if they were computed, else none: then no stored set can be this one. */
  computed(): readonly string[] {
    return this.done;
  }
}

function backupSlots(state: UserState): readonly (string | null)[] {
  if (state.status === 'registered' && state.factor.kind === 'enabled') return state.factor.backupCodeHashes;
  return new Array<null>(10).fill(null);
}

/**
 * A failed check is recorded (it counts toward the lockout) and then refused: 422 for a wrong or
 * replayed code, 429 with Retry-After when this failure locked verification. The wait is counted
 * from the command's instant, the same clock that set the lock.
 */
function rejectFailedCheck(outcome: Outcome, now: Date): Outcome {
  const failure = failedCheck(outcome.events);
  if (!failure) return outcome;
  if (failure.lockedUntil) {
    const retryAfter = Math.max(1, Math.ceil((Date.parse(failure.lockedUntil) - now.getTime()) / 1000));
    throw new DomainError('locked', 'verification_locked', 'Too many failed checks; verification is locked for a while.', { lockedUntil: failure.lockedUntil, retryAfterSeconds: retryAfter });
  }
  throw codeRefused(failure.reason, { revision: outcome.revision, position: outcome.position });
}

/** How long a retried verification may be answered from what it recorded: about a code's life. */
const VERIFICATION_RETRY_WINDOW_MS = 5 * 60_000;

/**
 * A verification answers "this person proved possession now". A retry (same command id) found in
 * history is answered from it only shortly after the check; later it would vouch for a code that
 * was not checked now, so it is refused like a used code and the caller asks for a fresh one.
 */
function refuseStaleVerification(outcome: Outcome, now: Date): Outcome {
  if (outcome.recordedAt === undefined || now.getTime() - Date.parse(outcome.recordedAt) <= VERIFICATION_RETRY_WINDOW_MS) return outcome;
  throw codeRefused('code_already_used');
}

const REFUSAL_DETAILS: Readonly<Record<VerificationFailureReason, string>> = {
  invalid_code: 'The code is not valid.',
  code_already_used: 'This code has already been used; wait for the next one.',
  invalid_device_token: 'This device is not trusted (unknown or revoked token); enter a code.',
  device_expired: 'This device is no longer trusted: its trust period ended; enter a code.',
};

function codeRefused(reason: VerificationFailureReason, details: DomainError['details'] = {}): DomainError {
  const detail = REFUSAL_DETAILS[reason];
  return new DomainError('unprocessable', reason, detail, details);
}

/**
 * Confirming refuses a wrong code without recording it (nothing is protected yet), so the decider
 * answers with an error rather than a failure event; the caller still sees the same 422 as elsewhere.
 */
function asFailedCheck(error: unknown): never {
  if (error instanceof DomainError && (error.code === 'invalid_code' || error.code === 'code_already_used')) throw codeRefused(error.code);
  throw error;
}

/**
 * The plaintext codes exist only in this request. Within 24 hours a retry under the same
 * Idempotency-Key gets the first answer (the same codes) from the idempotency layer and never gets
 * here; after that it is answered with the first attempt's events, whose hashes are not of these
 * codes: showing them would hand out codes that never work, so the retry is refused instead.
 */
function issuedCodes(outcome: Outcome, codes: readonly string[], hashes: readonly string[], now: Date): readonly string[] {
  rejectFailedCheck(outcome, now);
  const generated = outcome.events.find((e) => e.type === 'BackupCodesGenerated');
  if (generated?.type === 'BackupCodesGenerated' && generated.data.hashes.every((hash, i) => hash === hashes[i])) return codes;
  throw new DomainError('conflict', 'backup_codes_already_issued', 'These backup codes were shown in the answer to the first attempt of this request; regenerate them to get a new set.');
}
