import { exponential, type Agenda } from 'agenda';
import type { Logger } from '../ports/logger.port.js';
import type { AdminDigests, DigestJob, DigestJobs } from './admin-digest.sender.js';

/** One per period: lists the period's per-admin jobs, then schedules the next period's. */
export const DIGEST_PERIOD_JOB = 'admin-digest-period';
/** One per (organisation, admin, period): writes one digest. */
export const SEND_DIGEST_JOB = 'send-admin-digest';

interface PeriodJobData {
  readonly period: string;
}

/** Unique and insert-only per (org, admin, period), due at once: any number of fan-outs make one job. */
export class AgendaDigestJobs implements DigestJobs {
  constructor(private readonly agenda: Agenda) {}

  async enqueue(job: DigestJob): Promise<void> {
    await this.agenda
      .create<DigestJob>(SEND_DIGEST_JOB, { orgId: job.orgId, adminId: job.adminId, period: job.period })
      .unique({ name: SEND_DIGEST_JOB, 'data.orgId': job.orgId, 'data.adminId': job.adminId, 'data.period': job.period }, { insertOnly: true })
      .schedule(new Date())
      .save();
  }
}

/**
 * Ensures the period job at `at`, unique per period: every scheduler process calls this on start
 * and after each run, and one job results. The job for the period the clock is in is due at once
 * (its start has passed): after downtime the period is caught up once, and a period whose
 * digests went out already sends nothing.
 */
export async function ensurePeriodJob(agenda: Agenda, at: Date): Promise<void> {
  const period = at.toISOString();
  await agenda.create<PeriodJobData>(DIGEST_PERIOD_JOB, { period }).unique({ name: DIGEST_PERIOD_JOB, 'data.period': period }, { insertOnly: true }).schedule(at).save();
}

/**
 * Both jobs. The period job fans out for the period the clock is in (not the one it was created
 * for: after a changed ADMIN_DIGEST_EVERY an old job still sends for the current period only), then
 * ensures the next. A failed digest throws, so Agenda retries it with backoff; the record on the
 * admin's stream makes a job that runs again send nothing.
 */
export function defineDigestJobs(agenda: Agenda, digests: AdminDigests, logger: Logger): void {
  agenda.define<PeriodJobData>(
    DIGEST_PERIOD_JOB,
    async () => {
      const jobs = await digests.fanOut();
      await ensurePeriodJob(agenda, digests.nextPeriodStart());
      logger.info({ period: digests.currentPeriod(), jobs }, 'admin digest period started');
    },
    { concurrency: 1, lockLifetime: 300_000, removeOnComplete: true, backoff: exponential({ delay: 10_000, factor: 2, maxRetries: 10, jitter: 0.2 }) },
  );
  agenda.define<DigestJob>(
    SEND_DIGEST_JOB,
    async (job) => {
      const outcome = await digests.send(job.attrs.data);
      logger.debug({ orgId: job.attrs.data.orgId, userId: job.attrs.data.adminId, outcome }, 'admin digest job ran');
    },
    { concurrency: 10, lockLifetime: 120_000, removeOnComplete: true, backoff: exponential({ delay: 5_000, factor: 2, maxRetries: 14, jitter: 0.2 }) },
  );
}
