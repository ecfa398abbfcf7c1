/**
 * When a user is reminded: a pure function of what the events say about the user (2FA status,
 * the modes of their organisations, when enforcement began, when they were last reminded).
 * The saga stores this subject per user and schedules one job at nextReminderAt().
 */
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
}

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
  return new Date(last + intervals[cadence]);
}

/** Names the period a reminder belongs to, so a retried job records (and sends) it once. */
export function periodKey(subject: ReminderSubject, due: Date): string {
  return `${cadenceOf(subject) ?? 'none'}@${due.toISOString()}`;
}
