import type { Agenda } from 'agenda';
import type { ReminderJobs } from './reminder-jobs.port.js';

export const SEND_REMINDER_JOB = 'send-reminder';

export interface ReminderJobData {
  readonly userId: string;
  /** The saga's checkpoint the job waits for before it reads the subject (ReminderSender.run). */
  readonly after?: string;
}

/**
 * One Agenda job per user, created unique and insert-only and cancelled by id. A job is never
 * rescheduled in place: a running job saves its own state when it finishes and would overwrite a
 * new run time; a cancelled job's late save touches nothing, and the new job is a separate row.
 */
export class AgendaReminderJobs implements ReminderJobs {
  constructor(private readonly agenda: Agenda) {}

  async replace(userId: string, previousJobId: string | null, at: Date | null, after: string | null): Promise<string | null> {
    if (previousJobId !== null) await this.agenda.cancel({ id: previousJobId });
    if (at === null) return null;
    const job = await this.agenda
      .create<ReminderJobData>(SEND_REMINDER_JOB, after === null ? { userId } : { userId, after })
      .unique({ name: SEND_REMINDER_JOB, 'data.userId': userId }, { insertOnly: true })
      .schedule(at)
      .save();
    const id = job.attrs._id;
    if (id === undefined || id === null) throw new Error('scheduler did not return a job id');
    return String(id);
  }
}
