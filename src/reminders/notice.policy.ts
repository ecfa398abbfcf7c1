/**
 * Which security notice an event of a user's history calls for (NIST SP 800-63B §6.1.2.3 and §8:
 * tell the subscriber after recovery and after changes to their authenticators). Pure: a function
 * of the user's history up to and including the cause, so every process, and a retried job,
 * reaches the same answer.
 */
import { remainingBackupCodes, userDecider } from '../two-factor/user.decider.js';
import type { UserState } from '../two-factor/user.state.js';
import type { NoticeKind, UserEvent } from '../two-factor/user.events.js';

/** The events that may call for a notice; the saga schedules a job for each, the job decides. */
export const NOTICE_CAUSES = [
  'TwoFactorEnabled',
  'TwoFactorDisabled',
  'TwoFactorReset',
  'TwoFactorLockedOut',
  'BackupCodesGenerated',
  'BackupCodeUsed',
] as const satisfies readonly UserEvent['type'][];

/** Warn when a use leaves this many backup codes or fewer. */
export const LOW_BACKUP_CODES = 2;

export type UserNoticeKind = Exclude<NoticeKind, 'member_two_factor_reset'>;

export interface Notice {
  readonly kind: UserNoticeKind;
  /** When it happened (the cause's occurredAt). */
  readonly at: string;
  /** Until when verification is locked (verification_locked). */
  readonly lockedUntil: string | null;
  /** Codes left after the use (backup_codes_low). */
  readonly backupCodesLeft: number | null;
  /** A support reset is also told to the admins of the member's organisations. */
  readonly tellAdmins: boolean;
}

/** A user event as recorded: its id names the cause, its instant says when it happened. */
export type CausedEvent = UserEvent & { readonly metadata: { readonly eventId: string; readonly occurredAt: string } };

/**
 * The notice the event `causeId` calls for, or null. Backup codes: confirming a factor stores its
 * first set in the same command, which is part of "enabled", not a regeneration. "Two or fewer
 * left" is told once per set of codes: when a use makes the count cross from above two to two or
 * fewer; later uses of the same set stay silent, and a regenerated set can warn again.
 */
export function noticeFor(history: readonly CausedEvent[], causeId: string): Notice | null {
  const index = history.findIndex((event) => event.metadata.eventId === causeId);
  return index < 0 ? null : noticeAt(history, index, foldUntil(history, index));
}

/** The notice of `history[index]`, given the state folded from the events before it. */
function noticeAt(history: readonly CausedEvent[], index: number, before: UserState): Notice | null {
  const cause = history[index]!;
  const base = { at: cause.metadata.occurredAt, lockedUntil: null, backupCodesLeft: null, tellAdmins: false };
  switch (cause.type) {
    case 'TwoFactorEnabled':
      return { ...base, kind: 'two_factor_enabled' };
    case 'TwoFactorDisabled':
      return { ...base, kind: 'two_factor_disabled' };
    case 'TwoFactorReset':
      return { ...base, kind: 'two_factor_reset', tellAdmins: true };
    case 'TwoFactorLockedOut':
      return { ...base, kind: 'verification_locked', lockedUntil: cause.data.until };
    case 'BackupCodesGenerated':
      return history[index - 1]?.type === 'TwoFactorEnabled' ? null : { ...base, kind: 'backup_codes_regenerated' };
    case 'BackupCodeUsed': {
      const left = remainingBackupCodes(userDecider.evolve(before, cause));
      return remainingBackupCodes(before) > LOW_BACKUP_CODES && left <= LOW_BACKUP_CODES ? { ...base, kind: 'backup_codes_low', backupCodesLeft: left } : null;
    }
    default:
      return null;
  }
}

/**
 * The first cause before `causeId` whose notice the user has not been told yet, or null. Each
 * cause has its own job, and two scheduler processes may run a user's jobs at once; a user who
 * turned 2FA on and at once off again must not read "disabled" and then "enabled", so a notice
 * waits for the ones before it. Stale causes never get a job (see `isFreshCause`), so they never
 * hold a later one back.
 */
export function untoldCauseBefore(history: readonly CausedEvent[], causeId: string, now: Date, told: (causeId: string) => boolean): string | null {
  let state = userDecider.initialState;
  for (let i = 0; i < history.length && history[i]!.metadata.eventId !== causeId; i += 1) {
    const event = history[i]!;
    const id = event.metadata.eventId;
    if (isFreshCause(event.metadata.occurredAt, now) && noticeAt(history, i, state) !== null && !told(id)) return id;
    state = userDecider.evolve(state, event);
  }
  return null;
}

function foldUntil(history: readonly CausedEvent[], end: number): UserState {
  let state = userDecider.initialState;
  for (let i = 0; i < end; i += 1) state = userDecider.evolve(state, history[i]!);
  return state;
}

/**
 * A notice is news only while it is fresh. The saga starts from the beginning of history the first
 * time it runs (an upgrade, a new projector), and nobody should learn today that 2FA was turned on
 * two years ago; the scheduler's retries of a failing send end well within this age.
 */
export const NOTICE_MAX_AGE_MS = 3 * 86_400_000;

export function isFreshCause(occurredAt: string, now: Date): boolean {
  return now.getTime() - Date.parse(occurredAt) <= NOTICE_MAX_AGE_MS;
}
