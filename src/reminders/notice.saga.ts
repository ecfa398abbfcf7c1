import type { Clock } from '../kernel/clock.js';
import type { Projection } from '../projections/projection.js';
import type { NoticeJobs } from './notice.jobs.js';
import { isFreshCause, NOTICE_CAUSES } from './notice.policy.js';

/**
 * The notice saga: on the durable subscription (never the in-memory bus, which loses events on a
 * restart), every event that may call for a security notice becomes one job, unique per event;
 * the job decides from the user's history whether and to whom to write. It keeps no state: a crash
 * before its checkpoint replays the event into the same job, or into a job that finds the notices
 * already recorded. Stale causes (history replayed on first start) make no job.
 */
export function noticeSaga(jobs: NoticeJobs, clock: Clock): Projection {
  return {
    name: 'notices',
    rebuildable: false,
    handles: [...NOTICE_CAUSES],
    indexes: {},
    async apply(event) {
      if (!event.stream.startsWith('user-') || !isFreshCause(event.metadata.occurredAt, clock.now())) return [];
      await jobs.enqueue({ userId: event.stream.slice('user-'.length), causeId: event.metadata.eventId });
      return [];
    },
  };
}
