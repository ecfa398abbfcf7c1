import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { Doc, WriteOp } from '../ports/read-store.port.js';
import type { Projection, ReadModelView } from '../projections/projection.js';
import { orgMemberId } from '../projections/org-member.index.js';
import type { ExemptionExpiryJobs } from './exemption-expiry.jobs.js';
import type { MemberExempted, MemberExemptionEnded } from './organisation.events.js';

export const EXEMPTION_EXPIRIES = 'exemption_expiries';

/** The one expiry job kept for an exempt member. */
export interface ExemptionExpiryDoc extends Doc {
  orgId: string;
  userId: string;
  version: number;
  until: string;
  jobId: string | null;
}

/**
 * Keeps one Agenda job per exempt member, at its `until`. Runs on the durable subscription like
 * the reminder saga: a crash between scheduling and the checkpoint replays the event, which
 * replaces the job with the same one (unique per version). Not rebuildable: apply schedules jobs.
 */
export function exemptionExpirySaga(jobs: ExemptionExpiryJobs): Projection {
  const exempted = async (orgId: string, event: MemberExempted, view: ReadModelView): Promise<WriteOp[]> => {
    const { userId, version, until } = event.data;
    const id = orgMemberId(orgId, userId);
    const current = await view.get<ExemptionExpiryDoc>(EXEMPTION_EXPIRIES, id);
    if (current && current.version >= version) return [];
    const jobId = await jobs.replace({ orgId, userId, version }, current?.jobId ?? null, new Date(until));
    const doc: ExemptionExpiryDoc = { id, orgId, userId, version, until, jobId };
    return [{ kind: 'upsert', collection: EXEMPTION_EXPIRIES, doc }];
  };

  const ended = async (orgId: string, event: MemberExemptionEnded, view: ReadModelView): Promise<WriteOp[]> => {
    const id = orgMemberId(orgId, event.data.userId);
    const current = await view.get<ExemptionExpiryDoc>(EXEMPTION_EXPIRIES, id);
    if (!current || current.version !== event.data.version) return [];
    // The job that wrote an expiry is finishing anyway; cancelling it by id is harmless.
    await jobs.replace({ orgId, userId: event.data.userId, version: current.version }, current.jobId, null);
    return [{ kind: 'delete', collection: EXEMPTION_EXPIRIES, id }];
  };

  return {
    name: 'exemption-expiries',
    rebuildable: false,
    handles: ['MemberExempted', 'MemberExemptionEnded'],
    indexes: {},
    async apply(event: RecordedEvent, view: ReadModelView) {
      if (!event.stream.startsWith('organisation-')) return [];
      const orgId = event.stream.slice('organisation-'.length);
      const typed = event as RecordedEvent & (MemberExempted | MemberExemptionEnded);
      return typed.type === 'MemberExempted' ? exempted(orgId, typed, view) : ended(orgId, typed, view);
    },
  };
}
