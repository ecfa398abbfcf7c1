import { REMINDER_JOB_BACKOFF } from '../../src/reminders/reminder.worker.js';

/**
 * A reminder job whose send fails (SMTP down) is retried by Agenda with this policy. Agenda gives
 * up on a job for good once its policy answers null, and nothing re-arms a given-up reminder job
 * until the user's next event: an outage longer than the retries would lose the reminder.
 */
describe('the reminder job\'s retry policy', () => {
  const delayAfter = (attempt: number) => REMINDER_JOB_BACKOFF({ attempt, error: new Error('connection refused'), jobName: 'send-reminder', jobData: { userId: 'u' } });

  it('starts at about 30 seconds and doubles', () => {
    expect(delayAfter(1)).toBeGreaterThanOrEqual(24_000);
    expect(delayAfter(1)).toBeLessThanOrEqual(36_000);
    expect(delayAfter(3)).toBeGreaterThanOrEqual(96_000);
    expect(delayAfter(3)).toBeLessThanOrEqual(144_000);
  });

  it('never gives up, however long the outage, and waits at most about an hour between tries', () => {
    for (const attempt of [8, 9, 10, 20, 100, 10_000]) {
      const delay = delayAfter(attempt);
      expect(delay).not.toBeNull();
      expect(delay).toBeLessThanOrEqual(1.2 * 3_600_000);
      expect(delay).toBeGreaterThanOrEqual(0.8 * 3_600_000);
    }
  });
});
