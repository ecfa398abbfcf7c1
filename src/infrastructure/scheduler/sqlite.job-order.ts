import type { JobsSort, SortDirection } from 'agenda';
import type { JobRow } from './sqlite.job-row.js';

/** Whitelisted, so a caller-supplied sort can never inject SQL. */
const SORT_COLUMNS: Readonly<Record<keyof JobsSort, string>> = {
  nextRunAt: 'next_run_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  priority: 'priority',
  name: 'name',
  data: 'data',
};

function direction(value: SortDirection | undefined): 'ASC' | 'DESC' {
  return value === 'asc' ? 'ASC' : 'DESC';
}

/** Same default as the MongoDB backend (newest first); `id` last keeps pages stable. */
export function jobsOrderBy(sort: JobsSort | undefined): string {
  const keys = (Object.keys(SORT_COLUMNS) as (keyof JobsSort)[]).filter((key) => sort?.[key] !== undefined);
  const terms = keys.map((key) => `${SORT_COLUMNS[key]} ${direction(sort?.[key])}`);
  if (terms.length === 0) terms.push('next_run_at DESC', 'last_run_at DESC');
  return `ORDER BY ${terms.join(', ')}, id ASC`;
}

/** Agenda's run order: earliest `nextRunAt` first (null first, as MongoDB sorts), then higher priority. */
export function runOrder(a: JobRow, b: JobRow): number {
  const aRun = a.next_run_at ?? Number.NEGATIVE_INFINITY;
  const bRun = b.next_run_at ?? Number.NEGATIVE_INFINITY;
  if (aRun !== bRun) return aRun < bRun ? -1 : 1;
  return b.priority - a.priority;
}
