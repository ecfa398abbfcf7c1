/**
 * When a user is reminded: a pure function of what the events say about the user (2FA status,
 * the modes of their organisations, when enforcement began, when they were last reminded).
 * The saga stores this subject per user and schedules one job at nextReminderAt().
 */
import { effectivePolicy, type TimedPolicy } from '../enforcement/enforcement.deadline.js';

export type Cadence = 'soft' | 'hard';
export type Mode = 'off' | 'soft' | 'hard';

export interface ReminderSubject {
  readonly twoFactorEnabled: boolean;
  readonly forgotten: boolean;
  /** Mode of each organisation the user belongs to. */
  readonly modes: readonly Mode[];
  /** When the user last became subject to enforcement (cadence went from none to some). */
  readonly enforcedSince: string | null;
  readonly lastSentAt: string | null;
  /**
   * Each organisation's policy over time (scheduled escalation, newcomer's grace), in the order of
   * `modes`; absent means plain modes. With it the cadence turns hard when a deadline passes,
   * without any command.
   */
  readonly policies?: readonly TimedPolicy[];
}

const DAY_MS = 86_400_000;
/** Reminders before a deadline, on top of the soft cadence: so many days before it. */
export const COUNTDOWN_DAYS = [14, 7, 1] as const;

export interface ReminderIntervals {
  readonly soft: number;
  readonly hard: number;
}

export const NOT_SUBJECT: ReminderSubject = { twoFactorEnabled: false, forgotten: false, modes: [], enforcedSince: null, lastSentAt: null };

export function cadenceOf(subject: Pick<ReminderSubject, 'twoFactorEnabled' | 'forgotten' | 'modes'>): Cadence | null {
  if (subject.twoFactorEnabled || subject.forgotten) return null;
  if (subject.modes.includes('hard')) return 'hard';
  return subject.modes.includes('soft') ? 'soft' : null;
}

/**
 * Applies a change and keeps `enforcedSince` right: it is set when enforcement begins and cleared
 * when it ends, so a user who is enforced again later is reminded promptly once more.
 */
export function changeSubject(current: ReminderSubject, change: Partial<ReminderSubject>, at: string): ReminderSubject {
  const next = { ...current, ...change };
  const was = cadenceOf(current);
  const now = cadenceOf(next);
  if (now === null) return { ...next, enforcedSince: null };
  if (was === null) return { ...next, enforcedSince: at };
  return next;
}

/**
 * The first reminder is due as soon as enforcement begins; later ones one interval of the current
 * cadence after the last one sent. Switching soft → hard therefore brings the next reminder to at
 * most a hard interval after the last one (at once if that is already past: one catch-up, never a
 * burst, because the next one is again measured from this send).
 */
export function nextReminderAt(subject: ReminderSubject, intervals: ReminderIntervals): Date | null {
  const cadence = cadenceOf(subject);
  if (cadence === null || subject.enforcedSince === null) return null;
  const since = Date.parse(subject.enforcedSince);
  const last = subject.lastSentAt === null ? null : Date.parse(subject.lastSentAt);
  if (last === null || last < since) return new Date(since);
  if (cadenceAt(subject, new Date(last)) === 'hard') return new Date(last + intervals.hard);
  return new Date(Math.min(softNext(subject, last, intervals), ...countdownAfter(subject, last)));
}

/**
 * After a soft reminder: one soft interval later, unless a deadline turns the cadence hard first;
 * then the first hard reminder is due a hard interval after the last one, or at the deadline.
 */
function softNext(subject: ReminderSubject, last: number, intervals: ReminderIntervals): number {
  const deadline = hardeningAfter(subject, new Date(last));
  const soft = last + intervals.soft;
  return deadline === null ? soft : Math.min(soft, Math.max(last + intervals.hard, Date.parse(deadline)));
}

/** The next countdown reminder (14, 7, 1 days before the deadline) after the last reminder, if any. */
function countdownAfter(subject: ReminderSubject, last: number): number[] {
  const deadline = hardeningAfter(subject, new Date(last));
  if (deadline === null) return [];
  const points = COUNTDOWN_DAYS.map((days) => Date.parse(deadline) - days * DAY_MS).filter((at) => at > last);
  return points.length === 0 ? [] : [Math.min(...points)];
}

function timedPolicies(subject: ReminderSubject): readonly TimedPolicy[] {
  return subject.policies ?? subject.modes.map((mode) => ({ mode }));
}

/** The cadence at an instant: a newcomer's grace and a pending schedule are soft until they end. */
export function cadenceAt(subject: ReminderSubject, at: Date): Cadence | null {
  if (cadenceOf(subject) === null) return null;
  const modes = timedPolicies(subject).map((policy) => effectivePolicy(policy, at).mode);
  if (modes.includes('hard')) return 'hard';
  return modes.includes('soft') ? 'soft' : null;
}

/** When a soft cadence at `at` turns hard (the earliest schedule or end of grace), else null. */
export function hardeningAfter(subject: ReminderSubject, at: Date): string | null {
  if (cadenceAt(subject, at) !== 'soft') return null;
  const deadlines = timedPolicies(subject).map((policy) => effectivePolicy(policy, at).deadline).filter((d): d is string => d !== null);
  return deadlines.reduce<string | null>((earliest, d) => (earliest === null || Date.parse(d) < Date.parse(earliest) ? d : earliest), null);
}

/** Names the period a reminder belongs to, so a retried job records (and sends) it once. */
export function periodKey(subject: ReminderSubject, due: Date): string {
  return `${cadenceAt(subject, due) ?? 'none'}@${due.toISOString()}`;
}
