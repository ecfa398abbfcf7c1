import { toJobId, type JobParameters } from 'agenda';
import type { SqliteDatabase } from '../sqlite/sqlite.database.js';

/** Prefixed: jobs share a SQLite file with read models (and, in a data directory from before the split, with events). */
export const JOBS_TABLE = 'agenda_jobs';

/** Times are epoch milliseconds so the due-job query compares integers on an index. */
export interface JobRow {
  id: string;
  name: string;
  priority: number;
  type: string;
  next_run_at: number | null;
  locked_at: number | null;
  last_run_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  progress: number | null;
  repeat_interval: string | null;
  repeat_timezone: string | null;
  repeat_at: string | null;
  data: string | null;
  disabled: number;
  fork: number;
  last_modified_by: string | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
}

export const JOB_COLUMNS = [
  'id', 'name', 'priority', 'type', 'next_run_at', 'locked_at', 'last_run_at', 'last_finished_at',
  'failed_at', 'fail_count', 'fail_reason', 'progress', 'repeat_interval', 'repeat_timezone',
  'repeat_at', 'data', 'disabled', 'fork', 'last_modified_by', 'debounce_started_at', 'start_date',
  'end_date', 'skip_days',
] as const satisfies readonly (keyof JobRow)[];

/**
 * Idempotent, so every instance sharing the file may run it on connect.
 * The partial unique index is the storage-level guarantee that `every()` keeps one job per name.
 * The two due-job indexes serve the two branches of the lock query: never-locked due jobs by
 * run time, and jobs whose lock has expired by lock time.
 */
export function ensureJobSchema(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${JOBS_TABLE} (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      type TEXT NOT NULL CHECK (type IN ('normal', 'single')),
      next_run_at INTEGER,
      locked_at INTEGER,
      last_run_at INTEGER,
      last_finished_at INTEGER,
      failed_at INTEGER,
      fail_count INTEGER,
      fail_reason TEXT,
      progress REAL,
      repeat_interval TEXT,
      repeat_timezone TEXT,
      repeat_at TEXT,
      data TEXT,
      disabled INTEGER NOT NULL DEFAULT 0,
      fork INTEGER NOT NULL DEFAULT 0,
      last_modified_by TEXT,
      debounce_started_at INTEGER,
      start_date INTEGER,
      end_date INTEGER,
      skip_days TEXT
    ) STRICT;
    CREATE UNIQUE INDEX IF NOT EXISTS ${JOBS_TABLE}_single ON ${JOBS_TABLE} (name) WHERE type = 'single';
    CREATE INDEX IF NOT EXISTS ${JOBS_TABLE}_due ON ${JOBS_TABLE} (name, next_run_at, priority DESC)
      WHERE disabled = 0 AND locked_at IS NULL;
    CREATE INDEX IF NOT EXISTS ${JOBS_TABLE}_lock_expiry ON ${JOBS_TABLE} (name, locked_at)
      WHERE disabled = 0 AND locked_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${JOBS_TABLE}_next_run ON ${JOBS_TABLE} (next_run_at);
  `);
}

export function toMillis(value: Date | string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

function toDate(ms: number | null): Date | undefined {
  return ms === null ? undefined : new Date(ms);
}

function parseJson(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function rowToJob<DATA = unknown>(row: JobRow): JobParameters<DATA> {
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type === 'single' ? 'single' : 'normal',
    data: parseJson(row.data) as DATA,
    lockedAt: toDate(row.locked_at),
    lastRunAt: toDate(row.last_run_at),
    lastFinishedAt: toDate(row.last_finished_at),
    failedAt: toDate(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    progress: row.progress ?? undefined,
    repeatInterval: parseJson(row.repeat_interval) as string | number | undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1,
    fork: row.fork === 1 ? true : undefined,
    lastModifiedBy: row.last_modified_by ?? undefined,
    debounceStartedAt: toDate(row.debounce_started_at),
    startDate: toDate(row.start_date),
    endDate: toDate(row.end_date),
    skipDays: parseJson(row.skip_days) as number[] | undefined,
  };
}

/** `unique` and `uniqueOpts` are instructions for one save, not job state, so they are not stored. */
export function jobToRow(id: string, job: JobParameters, lastModifiedBy: string | undefined): JobRow {
  return {
    id,
    name: job.name,
    priority: job.priority ?? 0,
    type: job.type === 'single' ? 'single' : 'normal',
    next_run_at: toMillis(job.nextRunAt),
    locked_at: toMillis(job.lockedAt),
    last_run_at: toMillis(job.lastRunAt),
    last_finished_at: toMillis(job.lastFinishedAt),
    failed_at: toMillis(job.failedAt),
    fail_count: job.failCount ?? null,
    fail_reason: job.failReason ?? null,
    progress: job.progress ?? null,
    repeat_interval: jsonOrNull(job.repeatInterval),
    repeat_timezone: job.repeatTimezone ?? null,
    repeat_at: job.repeatAt ?? null,
    data: jsonOrNull(job.data),
    disabled: job.disabled === true ? 1 : 0,
    fork: job.fork === true ? 1 : 0,
    last_modified_by: lastModifiedBy ?? null,
    debounce_started_at: toMillis(job.debounceStartedAt),
    start_date: toMillis(job.startDate),
    end_date: toMillis(job.endDate),
    skip_days: jsonOrNull(job.skipDays),
  };
}
