import { assertNever } from '../kernel/assert-never.js';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { ReminderCadence, UserEvent } from './user.events.js';

export type FactorState =
  | { readonly kind: 'none' }
  | { readonly kind: 'pending'; readonly secret: EncryptedValue; readonly expiresAt: string }
  /** `backupCodeHashes`: null marks a used slot; indexes stay stable so BackupCodeUsed can name them. */
  | { readonly kind: 'enabled'; readonly secret: EncryptedValue; readonly backupCodeHashes: readonly (string | null)[] };

export interface LastReminder {
  readonly sentAt: string;
  readonly cadence: ReminderCadence;
  readonly orgIds: readonly string[];
}

/** A browser trusted to skip the code until `expiresAt`; revoked devices leave the list. */
export interface TrustedDevice {
  readonly deviceId: string;
  readonly tokenHash: string;
  readonly label: EncryptedValue | null;
  readonly rememberedAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
}

/** A two-person reset: `closed` when the factor went away by other means before anyone approved. */
export interface ResetRequest {
  readonly requestId: string;
  readonly by: string;
  readonly reason: string;
  readonly expiresAt: string;
  readonly status: 'pending' | 'approved' | 'closed';
}

export interface UnregisteredUser {
  readonly status: 'unregistered';
}

export interface RegisteredUser {
  readonly status: 'registered';
  readonly userId: string;
  readonly factor: FactorState;
  /** Failed checks since the last success or lockout; a lockout starts a fresh count. */
  readonly failuresInARow: number;
  /** Verification is refused before this instant; an earlier value is simply expired. */
  readonly lockedUntil: string | null;
  /** Replay barrier: a code is accepted only for a later step (per secret; a new setup clears it). */
  readonly lastAcceptedTimeStep: number | null;
  readonly lastReminder: LastReminder | null;
  /** Periods already reminded, so that a retried reminder job records once. */
  readonly reminderPeriodKeys: readonly string[];
  readonly trustedDevices: readonly TrustedDevice[];
  readonly resetRequests: readonly ResetRequest[];
  /** Notices already recorded, so that a retried notice job records once. */
  readonly noticeIds: readonly string[];
  /** `orgId@period` of every admins' digest recorded to this user. */
  readonly digestKeys: readonly string[];
}

/** Terminal: the data key is gone, nothing may happen to this user any more. */
export interface ForgottenUser {
  readonly status: 'forgotten';
}

export type UserState = UnregisteredUser | RegisteredUser | ForgottenUser;

export const initialUserState: UserState = { status: 'unregistered' };

export function evolveUser(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserRegistered') return state.status === 'unregistered' ? registered(event.data.userId) : state;
  if (event.type === 'UserForgotten') return { status: 'forgotten' };
  if (state.status !== 'registered') return state;
  return evolveRegistered(state, event);
}

function registered(userId: string): RegisteredUser {
  return {
    status: 'registered',
    userId,
    factor: { kind: 'none' },
    failuresInARow: 0,
    lockedUntil: null,
    lastAcceptedTimeStep: null,
    lastReminder: null,
    reminderPeriodKeys: [],
    trustedDevices: [],
    resetRequests: [],
    noticeIds: [],
    digestKeys: [],
  };
}

const NO_FACTOR = { factor: { kind: 'none' }, failuresInARow: 0, lockedUntil: null, trustedDevices: [] } as const;

function evolveRegistered(state: RegisteredUser, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
    case 'UserForgotten':
      return state;
    case 'TwoFactorSetupStarted':
      // A new secret: no code of it was ever accepted, so the old barrier does not apply.
      return { ...state, factor: { kind: 'pending', ...event.data }, lastAcceptedTimeStep: null };
    case 'TwoFactorEnabled':
      if (state.factor.kind !== 'pending') return state;
      return {
        ...accepted(state, event.data.timeStep),
        factor: { kind: 'enabled', secret: state.factor.secret, backupCodeHashes: [] },
      };
    case 'BackupCodesGenerated':
      if (state.factor.kind !== 'enabled') return state;
      return { ...accepted(state, event.data.timeStep), factor: { ...state.factor, backupCodeHashes: [...event.data.hashes] } };
    case 'TwoFactorVerified':
      return accepted(state, event.data.timeStep);
    case 'BackupCodeUsed':
      return { ...succeeded(state), factor: withSlotUsed(state.factor, event.data.index) };
    case 'TwoFactorVerificationFailed':
      return { ...state, failuresInARow: event.data.failuresInARow };
    case 'TwoFactorLockedOut':
      return { ...state, lockedUntil: event.data.until, failuresInARow: 0 };
    // A device trusted for a factor means nothing once the factor is gone; pending reset requests close with it.
    case 'TwoFactorDisabled':
      return { ...accepted(state, event.data.timeStep), ...NO_FACTOR, resetRequests: closedRequests(state.resetRequests, null) };
    case 'TwoFactorReset':
      return { ...state, ...NO_FACTOR, resetRequests: closedRequests(state.resetRequests, 'requestId' in event.data ? event.data.requestId : null) };
    case 'TwoFactorResetRequested':
      return { ...state, resetRequests: [...state.resetRequests, { ...event.data, status: 'pending' }] };
    case 'TrustedDeviceRemembered': {
      // Devices expired by now are dropped here, so the list does not grow with every month of use.
      const live = state.trustedDevices.filter((d) => Date.parse(d.expiresAt) > Date.parse(event.data.rememberedAt));
      return { ...state, trustedDevices: [...live, { ...event.data, lastUsedAt: null }] };
    }
    case 'TrustedDeviceUsed':
      return { ...succeeded(state), trustedDevices: state.trustedDevices.map((d) => (d.deviceId === event.data.deviceId ? { ...d, lastUsedAt: event.data.usedAt } : d)) };
    case 'TrustedDeviceRevoked':
      return { ...state, trustedDevices: state.trustedDevices.filter((d) => d.deviceId !== event.data.deviceId) };
    case 'ReminderSent':
      return {
        ...state,
        lastReminder: { sentAt: event.data.sentAt, cadence: event.data.cadence, orgIds: event.data.orgIds },
        reminderPeriodKeys: [...state.reminderPeriodKeys, event.data.periodKey],
      };
    case 'NoticeSent':
      return { ...state, noticeIds: [...state.noticeIds, event.data.noticeId] };
    case 'AdminDigestSent':
      return { ...state, digestKeys: [...state.digestKeys, digestKey(event.data.orgId, event.data.period)] };
    default:
      return assertNever(event);
  }
}

/** The approved request (if any) is marked approved; every other pending one closes. */
function closedRequests(requests: readonly ResetRequest[], approvedId: string | null): readonly ResetRequest[] {
  return requests.map((r) => (r.requestId === approvedId ? { ...r, status: 'approved' } : r.status === 'pending' ? { ...r, status: 'closed' } : r));
}

export function digestKey(orgId: string, period: string): string {
  return `${orgId}@${period}`;
}

function succeeded(state: RegisteredUser): RegisteredUser {
  return { ...state, failuresInARow: 0, lockedUntil: null };
}

function accepted(state: RegisteredUser, timeStep: number): RegisteredUser {
  const last = state.lastAcceptedTimeStep;
  return { ...succeeded(state), lastAcceptedTimeStep: last === null ? timeStep : Math.max(last, timeStep) };
}

function withSlotUsed(factor: FactorState, index: number): FactorState {
  if (factor.kind !== 'enabled') return factor;
  return { ...factor, backupCodeHashes: factor.backupCodeHashes.map((hash, i) => (i === index ? null : hash)) };
}

