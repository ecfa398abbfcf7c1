import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { Doc, WriteOp } from '../ports/read-store.port.js';
import type { Projection, ReadModelView } from '../projections/projection.js';
import type { EscalationJobs } from './escalation.jobs.js';
import type { OrganisationEvent } from './organisation.events.js';

const ESCALATION_JOBS = 'escalation_jobs';

interface EscalationJobDoc extends Doc {
  scheduleId: string | null;
  jobId: string | null;
}

/**
 * Keeps one scheduler job per organisation at its pending escalation's instant: a new or moved
 * schedule replaces the job, a cancelled one or a mode that left soft removes it. Like the
 * reminder saga it replaces the job before committing with the checkpoint, so a crash in between
 * replays into the same single job.
 */
export function escalationSaga(jobs: EscalationJobs): Projection {
  const replace = async (orgId: string, view: ReadModelView, schedule: { scheduleId: string; at: Date } | null): Promise<WriteOp[]> => {
    const doc = await view.get<EscalationJobDoc>(ESCALATION_JOBS, orgId);
    if (doc?.scheduleId === (schedule?.scheduleId ?? null)) return [];
    const jobId = await jobs.replace(orgId, doc?.jobId ?? null, schedule);
    return [{ kind: 'upsert', collection: ESCALATION_JOBS, doc: { id: orgId, scheduleId: schedule?.scheduleId ?? null, jobId } }];
  };

  return {
    name: 'escalations',
    rebuildable: false,
    indexes: {},
    handles: ['EscalationScheduled', 'EscalationCancelled', 'EnforcementModeChanged'],
    async apply(event, view) {
      if (!event.stream.startsWith('organisation-')) return [];
      const orgId = event.stream.slice('organisation-'.length);
      const org = event as RecordedEvent & OrganisationEvent;
      switch (org.type) {
        case 'EscalationScheduled':
          return replace(orgId, view, { scheduleId: org.data.scheduleId, at: new Date(org.data.hardFrom) });
        case 'EscalationCancelled': {
          const doc = await view.get<EscalationJobDoc>(ESCALATION_JOBS, orgId);
          return doc?.scheduleId === org.data.scheduleId ? replace(orgId, view, null) : [];
        }
        case 'EnforcementModeChanged':
          return org.data.to === 'soft' ? [] : replace(orgId, view, null);
        default:
          return [];
      }
    },
  };
}
