import type { ReadStore } from '../ports/read-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReminderJobs } from './reminder-jobs.port.js';
import { nextReminderAt, type ReminderIntervals } from './reminder.policy.js';
import { REMINDER_SUBJECTS, toSubject, type SubjectDoc } from './reminder.saga.js';

/** The cadence the stored due dates were computed with. */
export const REMINDER_CADENCE = 'reminder_cadence';
const CADENCE_ID = 'intervals';
const PAGE_SIZE = 500;

interface CadenceDoc {
  id: string;
  soft: number;
  hard: number;
}

/**
 * A due date is computed when an event changes a user's schedule, with the cadence of that
 * moment; a changed REMINDER_SOFT_EVERY / REMINDER_HARD_EVERY would otherwise reach a user only at
 * their next event, up to a week late (or never, when the old job fires early and finds nothing
 * due). So on start, under a cadence other than the stored one, every due date is recomputed and
 * its job replaced. It runs before the saga starts, which owns the same documents, and records the
 * cadence last, so a crash halfway makes the next start finish the work.
 */
export async function rescheduleReminders(readStore: ReadStore, jobs: ReminderJobs, intervals: ReminderIntervals, logger: Logger): Promise<number> {
  const stored = await readStore.get<CadenceDoc & { [key: string]: number | string }>(REMINDER_CADENCE, CADENCE_ID);
  if (stored?.soft === intervals.soft && stored.hard === intervals.hard) return 0;
  let moved = 0;
  let cursor: string | undefined;
  do {
    const page = await readStore.find<SubjectDoc>(REMINDER_SUBJECTS, {}, { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    for (const doc of page.items) if (await reschedule(readStore, jobs, intervals, doc)) moved += 1;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  await readStore.write([{ kind: 'upsert', collection: REMINDER_CADENCE, doc: { id: CADENCE_ID, soft: intervals.soft, hard: intervals.hard } }]);
  if (stored) logger.info({ moved, soft: intervals.soft, hard: intervals.hard }, 'reminder cadence changed: due dates recomputed');
  return moved;
}

async function reschedule(readStore: ReadStore, jobs: ReminderJobs, intervals: ReminderIntervals, doc: SubjectDoc): Promise<boolean> {
  const due = nextReminderAt(toSubject(doc), intervals)?.toISOString() ?? null;
  if (due === doc.dueAt) return false;
  // The document is patched right below, before the saga starts: no checkpoint to wait for.
  const jobId = await jobs.replace(doc.id, doc.jobId, due === null ? null : new Date(due), null);
  await readStore.write([{ kind: 'patch', collection: REMINDER_SUBJECTS, id: doc.id, set: { dueAt: due, jobId } }]);
  return true;
}
