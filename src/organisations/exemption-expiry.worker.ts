import { exponential, type Agenda } from 'agenda';
import { handleCommand } from '../application/command-handling.js';
import type { Clock } from '../kernel/clock.js';
import { isDomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import { EXPIRE_EXEMPTION_JOB, type ExemptionExpiryJobData } from './exemption-expiry.jobs.js';
import { organisationDecider, organisationStream } from './organisation.decider.js';

export type ExpiryOutcome = 'expired' | 'not_due' | 'nothing_to_expire';

/** The service itself; token roles are limited to staff roles, so no caller can claim this one. */
const EXPIRY_ACTOR = { id: 'exemption-scheduler', roles: ['system'] } as const;

/**
 * Ends one exemption once its `until` has passed. Exactly once however often it runs and on however
 * many scheduler processes: the organisation decider refuses a version that is no longer current,
 * the append is conditional on the revision decided on, and the command id (hence the event id)
 * is the same for every attempt at one version.
 */
export class ExemptionExpiry {
  constructor(private readonly deps: { readonly events: EventStore; readonly clock: Clock; readonly logger: Logger }) {}

  async run(job: ExemptionExpiryJobData): Promise<ExpiryOutcome> {
    const now = this.deps.clock.now();
    const commandId = `exemption-expiry|${job.orgId}|${job.userId}|${job.version}`;
    try {
      const outcome = await handleCommand(
        this.deps.events,
        organisationDecider,
        organisationStream(job.orgId),
        { type: 'ExpireExemption', userId: job.userId, version: job.version, now: now.toISOString(), actor: EXPIRY_ACTOR },
        { commandId, correlationId: commandId, actor: EXPIRY_ACTOR, now },
      );
      if (outcome.events.length === 0) return 'nothing_to_expire';
    } catch (error) {
      if (isDomainError(error) && error.code === 'exemption_not_due') return 'not_due';
      throw error;
    }
    this.deps.logger.info({ orgId: job.orgId, userId: job.userId, version: job.version }, 'exemption expired');
    return 'expired';
  }
}

/** A job that fires early (clock skew between hosts) fails and is retried, so the expiry is never lost. */
export function defineExemptionExpiryJob(agenda: Agenda, expiry: ExemptionExpiry, logger: Logger): void {
  agenda.define<ExemptionExpiryJobData>(
    EXPIRE_EXEMPTION_JOB,
    async (job) => {
      const outcome = await expiry.run(job.attrs.data);
      if (outcome === 'not_due') throw new Error('exemption not due yet');
      if (outcome !== 'expired') logger.debug({ orgId: job.attrs.data.orgId, userId: job.attrs.data.userId, outcome }, 'exemption expiry job skipped');
    },
    {
      concurrency: 10,
      lockLifetime: 60_000,
      removeOnComplete: true,
      backoff: exponential({ delay: 5_000, factor: 2, maxRetries: 10, jitter: 0.2 }),
    },
  );
}
