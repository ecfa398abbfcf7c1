import { changeSubject, nextReminderAt, NOT_SUBJECT, periodKey, type Mode, type ReminderSubject } from '../../src/reminders/reminder.policy.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const intervals = { soft: WEEK, hard: DAY };
const START = Date.parse('2026-01-05T09:00:00.000Z');

/**
 * A fake-clock simulation of the saga: events change the subject at given instants; between them
 * the clock advances in one-hour ticks and every due reminder is "sent" (recorded as lastSentAt).
 */
function simulate(changes: ReadonlyArray<{ at: number; change: Partial<ReminderSubject> }>, until: number): number[] {
  let subject = NOT_SUBJECT;
  const sent: number[] = [];
  const pending = [...changes].sort((a, b) => a.at - b.at);
  for (let now = START; now <= until; now += HOUR) {
    while (pending.length && pending[0]!.at <= now) subject = changeSubject(subject, pending.shift()!.change, new Date(now).toISOString());
    const due = nextReminderAt(subject, intervals);
    if (due && due.getTime() <= now) {
      sent.push(now);
      subject = { ...subject, lastSentAt: new Date(now).toISOString() };
    }
  }
  return sent;
}

const modes = (...m: Mode[]) => ({ modes: m });

describe('reminder policy over simulated time', () => {
  it('soft enforcement: one reminder at once, then weekly: 3 weeks → 4 reminders (days 0, 7, 14, 21)', () => {
    const sent = simulate([{ at: START, change: modes('soft') }], START + 3 * WEEK);
    expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 7, 14, 21]);
  });

  it('hard enforcement: daily: 3 days → 4 reminders (days 0, 1, 2, 3)', () => {
    const sent = simulate([{ at: START, change: modes('hard') }], START + 3 * DAY);
    expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 1, 2, 3]);
  });

  it('soft → hard: the next reminder comes no later than a hard interval after the change, then daily', () => {
    const change = START + 3 * DAY + 5 * HOUR;
    const sent = simulate([{ at: START, change: modes('soft') }, { at: change, change: modes('hard') }], change + 3 * DAY);
    // Last soft reminder at day 0; the switch makes the overdue one go out at the change, then daily.
    expect(sent.map((t) => (t - START) / HOUR)).toEqual([0, 77, 101, 125, 149]);
    expect(sent[1]! - change).toBeLessThanOrEqual(DAY);
  });

  it('hard → soft: the cadence relaxes to weekly from the last reminder', () => {
    const change = START + 2 * DAY + 3 * HOUR;
    const sent = simulate([{ at: START, change: modes('hard') }, { at: change, change: modes('soft') }], START + 3 * WEEK);
    expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 1, 2, 9, 16]);
  });

  it('stops when 2FA is enabled, when enforcement is turned off, or when the user leaves', () => {
    for (const stop of [{ twoFactorEnabled: true }, modes('off'), modes(), { forgotten: true }]) {
      const sent = simulate([{ at: START, change: modes('hard') }, { at: START + 2 * DAY + HOUR, change: stop }], START + 2 * WEEK);
      expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 1, 2]);
    }
  });

  it('a user with 2FA is never reminded', () => {
    expect(simulate([{ at: START, change: { twoFactorEnabled: true, modes: ['hard'] } }], START + WEEK)).toEqual([]);
  });

  it('is reminded promptly again when enforcement begins anew (e.g. after a support reset)', () => {
    const reset = START + 3 * DAY + 2 * HOUR;
    const sent = simulate(
      [{ at: START, change: modes('soft') }, { at: START + DAY, change: { twoFactorEnabled: true } }, { at: reset, change: { twoFactorEnabled: false } }],
      reset + 8 * DAY,
    );
    expect(sent.map((t) => (t - START) / HOUR)).toEqual([0, 74, 74 + 168]);
  });

  it('after downtime, sends one catch-up, not a burst', () => {
    let subject = changeSubject(NOT_SUBJECT, modes('hard'), new Date(START).toISOString());
    subject = { ...subject, lastSentAt: new Date(START).toISOString() };
    const afterOutage = START + 5 * DAY;
    expect(nextReminderAt(subject, intervals)!.getTime()).toBeLessThan(afterOutage);
    subject = { ...subject, lastSentAt: new Date(afterOutage).toISOString() };
    expect(nextReminderAt(subject, intervals)!.getTime()).toBe(afterOutage + DAY);
  });

  it('names periods distinctly per cadence and due instant', () => {
    const subject = changeSubject(NOT_SUBJECT, modes('soft'), new Date(START).toISOString());
    const due = nextReminderAt(subject, intervals)!;
    expect(periodKey(subject, due)).toBe(`soft@${new Date(START).toISOString()}`);
    expect(periodKey({ ...subject, modes: ['hard'] }, due)).not.toBe(periodKey(subject, due));
  });

  describe('policy over time: schedules and grace change the cadence without any event', () => {
    const iso = (days: number) => new Date(START + days * DAY).toISOString();

    it('counts down 14, 7 and 1 days before a scheduled escalation, on top of the weekly cadence, then daily from the date', () => {
      const scheduled = { modes: ['soft'] as Mode[], policies: [{ mode: 'soft' as const, hardFrom: iso(20) }] };
      const sent = simulate([{ at: START, change: scheduled }], START + 22 * DAY);
      expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 6, 13, 19, 20, 21, 22]);
    });

    it('a newcomer to a hard organisation is reminded on the soft cadence during grace, counted down, then daily', () => {
      const newcomer = { modes: ['hard'] as Mode[], policies: [{ mode: 'hard' as const, graceFrom: iso(0), graceDays: 10 }] };
      const sent = simulate([{ at: START, change: newcomer }], START + 12 * DAY);
      expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 3, 9, 10, 11, 12]);
    });

    it('a cancelled schedule returns to the plain weekly cadence', () => {
      const scheduled = { modes: ['soft'] as Mode[], policies: [{ mode: 'soft' as const, hardFrom: iso(20) }] };
      const cancelled = { policies: [{ mode: 'soft' as const, hardFrom: null }] };
      const sent = simulate([{ at: START, change: scheduled }, { at: START + 6 * DAY + HOUR, change: cancelled }], START + 22 * DAY);
      expect(sent.map((t) => (t - START) / DAY)).toEqual([0, 6, 13, 20]);
    });
  });
});
