import { exponential, type Agenda } from 'agenda';
import type { Logger } from '../ports/logger.port.js';
import type { EscalationRunner } from './escalation.runner.js';

export const ESCALATE_JOB = 'escalate-organisation';

export interface EscalationJobData {
  readonly orgId: string;
  /** The schedule this job carries out; the decider refuses it once the schedule was moved or cancelled. */
  readonly scheduleId: string;
}

/** One scheduled escalation job per organisation. */
export interface EscalationJobs {
  /** Cancels `previousJobId` (if any) and, with a schedule, ensures the organisation's one job at its instant. */
  replace(orgId: string, previousJobId: string | null, schedule: { readonly scheduleId: string; readonly at: Date } | null): Promise<string | null>;
}

/**
 * Unique per organisation and insert-only, as the reminder jobs are: a replayed replacement finds
 * the job it created instead of adding a second one, and a moved schedule is a new row, never an
 * old job rescheduled in place (a running job's late save would overwrite the new time).
 */
export class AgendaEscalationJobs implements EscalationJobs {
  constructor(private readonly agenda: Agenda) {}

  async replace(orgId: string, previousJobId: string | null, schedule: { readonly scheduleId: string; readonly at: Date } | null): Promise<string | null> {
    if (previousJobId !== null) await this.agenda.cancel({ id: previousJobId });
    if (schedule === null) return null;
    const job = await this.agenda
      .create<EscalationJobData>(ESCALATE_JOB, { orgId, scheduleId: schedule.scheduleId })
      .unique({ name: ESCALATE_JOB, 'data.orgId': orgId }, { insertOnly: true })
      .schedule(schedule.at)
      .save();
    const id = job.attrs._id;
    if (id === undefined || id === null) throw new Error('scheduler did not return a job id');
    return String(id);
  }
}

/** A job that ran before its instant (clocks between instances differ) throws, so Agenda runs it again shortly. */
export function defineEscalationJob(agenda: Agenda, runner: EscalationRunner, logger: Logger): void {
  agenda.define<EscalationJobData>(
    ESCALATE_JOB,
    async (job) => {
      const { orgId, scheduleId } = job.attrs.data;
      const outcome = await runner.run(orgId, scheduleId);
      if (outcome === 'not_due') throw new Error('scheduled escalation ran before its instant');
      logger.info({ orgId, scheduleId, outcome }, 'scheduled escalation job ran');
    },
    { concurrency: 5, lockLifetime: 60_000, removeOnComplete: true, backoff: exponential({ delay: 1_000, factor: 2, maxRetries: 10, jitter: 0.2 }) },
  );
}
