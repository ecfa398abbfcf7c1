import { exponential, type Agenda } from 'agenda';
import type { Logger } from '../ports/logger.port.js';
import { SEND_REMINDER_JOB, type ReminderJobData } from './agenda.reminder-jobs.js';
import type { ReminderSender } from './reminder.sender.js';

/**
 * Retries of a failed reminder job: from 30 s, doubling, then hourly, for as long as it takes.
 * Agenda drops a job for good once the policy gives up, and nothing re-arms a reminder job before
 * the user's next event, so a bounded number of retries lost the reminder of anyone due during an
 * SMTP outage longer than about two hours. The job ends anyway when the reminder is sent, when it is
 * no longer due (the sender re-checks), or when the saga replaces or cancels it.
 */
export const REMINDER_JOB_BACKOFF = exponential({ delay: 30_000, factor: 2, maxDelay: 3_600_000, maxRetries: Number.POSITIVE_INFINITY, jitter: 0.2 });

/**
 * The reminder job. A failed send throws, so Agenda retries it with backoff; the sender's period
 * key makes a job that ran twice (lock expiry on a slow run) send and record once.
 */
export function defineReminderJob(agenda: Agenda, sender: ReminderSender, logger: Logger): void {
  agenda.define<ReminderJobData>(
    SEND_REMINDER_JOB,
    async (job) => {
      const outcome = await sender.run(job.attrs.data.userId, job.attrs.data.after ?? null);
      if (outcome !== 'sent') logger.debug({ userId: job.attrs.data.userId, outcome }, 'reminder job skipped');
    },
    {
      concurrency: 50,
      // Agenda keeps locked jobs in an in-memory queue whose scans grow with its length; when
      // 100,000 reminders fall due together, locking them all at once made each pick quadratic.
      // It locks only on its poll, so this also caps a process at lockLimit reminders per
      // SCHEDULER_PROCESS_EVERY: 200 a second with the default 5 s (40 with the 200 before).
      lockLimit: 1000,
      lockLifetime: 120_000,
      removeOnComplete: true,
      backoff: REMINDER_JOB_BACKOFF,
    },
  );
  agenda.on('fail', (error: unknown) => logger.warn({ err: error instanceof Error ? error.name : 'error' }, 'reminder job failed; will retry'));
}
