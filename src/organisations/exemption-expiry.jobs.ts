import type { Agenda } from 'agenda';

export const EXPIRE_EXEMPTION_JOB = 'expire-exemption';

/** Which exemption a job ends: the version makes a replaced or ended exemption's old job a no-op. */
export interface ExemptionExpiryJobData {
  readonly orgId: string;
  readonly userId: string;
  readonly version: number;
}

/**
 * One scheduled expiry per exempt member. Implementations must be idempotent: replaying the same
 * replacement (after a crash before the saga's checkpoint) leaves exactly one job for that version.
 */
export interface ExemptionExpiryJobs {
  /** Cancels `previousJobId` (if any) and, when `at` is set, ensures one job for `exemption` at `at`. */
  replace(exemption: ExemptionExpiryJobData, previousJobId: string | null, at: Date | null): Promise<string | null>;
}

/** As the reminder jobs: created unique and insert-only per (org, user, version), cancelled by id, never rescheduled in place. */
export class AgendaExemptionExpiryJobs implements ExemptionExpiryJobs {
  constructor(private readonly agenda: Agenda) {}

  async replace(exemption: ExemptionExpiryJobData, previousJobId: string | null, at: Date | null): Promise<string | null> {
    if (previousJobId !== null) await this.agenda.cancel({ id: previousJobId });
    if (at === null) return null;
    const data = { orgId: exemption.orgId, userId: exemption.userId, version: exemption.version };
    const job = await this.agenda
      .create<ExemptionExpiryJobData>(EXPIRE_EXEMPTION_JOB, data)
      .unique({ name: EXPIRE_EXEMPTION_JOB, 'data.orgId': data.orgId, 'data.userId': data.userId, 'data.version': data.version }, { insertOnly: true })
      .schedule(at)
      .save();
    const id = job.attrs._id;
    if (id === undefined || id === null) throw new Error('scheduler did not return a job id');
    return String(id);
  }
}
