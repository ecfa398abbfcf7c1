import { exponential, type Agenda } from 'agenda';
import type { Logger } from '../ports/logger.port.js';
import { SEND_REMINDER_JOB, type ReminderJobData } from './agenda.reminder-jobs.js';
import type { ReminderSender } from './reminder.sender.js';

/**
 * The reminder job. A failed send throws, so Agenda retries it with backoff; the sender's period
 * key makes a job that ran twice (lock expiry on a slow run) send and record once.
 */
export function defineReminderJob(agenda: Agenda, sender: ReminderSender, logger: Logger): void {
  agenda.define<ReminderJobData>(
    SEND_REMINDER_JOB,
    async (job) => {
      const outcome = await sender.run(job.attrs.data.userId);
      if (outcome !== 'sent') logger.debug({ userId: job.attrs.data.userId, outcome }, 'reminder job skipped');
    },
    {
      concurrency: 50,
      // Agenda keeps locked jobs in an in-memory queue whose scans grow with its length; when
      // 100,000 reminders fall due together, locking them all at once made each pick quadratic.
      lockLimit: 200,
      lockLifetime: 120_000,
      removeOnComplete: true,
      backoff: exponential({ delay: 30_000, factor: 2, maxRetries: 8, jitter: 0.2 }),
    },
  );
  agenda.on('fail', (error: unknown) => logger.warn({ err: error instanceof Error ? error.name : 'error' }, 'reminder job failed; will retry'));
}
