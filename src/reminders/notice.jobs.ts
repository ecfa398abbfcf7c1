import { exponential, type Agenda } from 'agenda';
import type { Logger } from '../ports/logger.port.js';
import type { NoticeSender } from './notice.sender.js';

export const SEND_NOTICE_JOB = 'send-notice';

export interface NoticeJobData {
  /** Whose stream holds the cause. */
  readonly userId: string;
  /** The event id of the cause: the job's unique key, and with the recipient the notice's id. */
  readonly causeId: string;
}

/** One job per cause. Implementations must be idempotent: replaying an event leaves one job. */
export interface NoticeJobs {
  enqueue(job: NoticeJobData): Promise<void>;
}

/** Unique and insert-only per cause, due at once: two projectors replaying one event create one job. */
export class AgendaNoticeJobs implements NoticeJobs {
  constructor(private readonly agenda: Agenda) {}

  async enqueue({ userId, causeId }: NoticeJobData): Promise<void> {
    await this.agenda
      .create<NoticeJobData>(SEND_NOTICE_JOB, { userId, causeId })
      .unique({ name: SEND_NOTICE_JOB, 'data.causeId': causeId }, { insertOnly: true })
      .schedule(new Date())
      .save();
  }
}

/**
 * The notice job. Agenda runs it on one worker at a time; a failed send throws, so it is retried
 * with backoff (5 s, doubling, 14 times: about a day, within the notices' freshness), and the
 * notice ids make a job that runs again send only what is still missing.
 */
export function defineNoticeJob(agenda: Agenda, sender: NoticeSender, logger: Logger): void {
  agenda.define<NoticeJobData>(
    SEND_NOTICE_JOB,
    async (job) => {
      const { userId, causeId } = job.attrs.data;
      const result = await sender.run(userId, causeId);
      if (result.sent > 0) logger.debug({ userId, ...result }, 'notice job ran');
    },
    { concurrency: 10, lockLifetime: 120_000, removeOnComplete: true, backoff: exponential({ delay: 5_000, factor: 2, maxRetries: 14, jitter: 0.2 }) },
  );
}
