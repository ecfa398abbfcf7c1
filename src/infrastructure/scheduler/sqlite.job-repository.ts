import { dataPathExpression } from './sqlite.job-filter.js';
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import {
  computeJobState,
  type JobId,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsOverview,
  type JobsQueryOptions,
  type JobsResult,
  type JobState,
  type JobWithState,
  type RemoveJobsOptions,
} from 'agenda';
import { writeWithoutBlocking, type SqliteDatabase } from '../sqlite/sqlite.database.js';
import { dataFilter, removeFilter, uniqueFilter, whereClause, type SqlCondition } from './sqlite.job-filter.js';
import { JOB_COLUMNS, JOBS_TABLE, ensureJobSchema, jobToRow, rowToJob, toMillis, type JobRow } from './sqlite.job-row.js';
import { jobsOrderBy, runOrder } from './sqlite.job-order.js';

/** Fields only the job processor writes; a user's `job.save()` omits them and must not reset them. */
const PROCESSOR_FIELDS = ['lockedAt', 'lastRunAt', 'lastFinishedAt', 'failedAt', 'failCount', 'failReason', 'progress'] as const;

const T = JOBS_TABLE;
const UPDATE_ALL = `UPDATE ${T} SET ${JOB_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id RETURNING *`;
const INSERT = `INSERT INTO ${T} (${JOB_COLUMNS.join(', ')}) VALUES (${JOB_COLUMNS.map((c) => `@${c}`).join(', ')}) RETURNING *`;

/**
 * Agenda 6 job storage on the embedded profile's SQLite file.
 *
 * Locking invariant: a job is handed to at most one worker per lock lifetime. Finding the next due
 * job and stamping `locked_at` happen in one synchronous `BEGIN IMMEDIATE` transaction, so the
 * write lock is held from the read to the write and no other connection or process on the file
 * can lock the same row in between. A job is lockable when it is enabled, its name matches, and
 * either it is unlocked and due by the next scan, or its lock is older than the caller's lock
 * deadline (its worker died or overran its lockLifetime; Agenda then runs it again, which is why
 * job handlers must be idempotent). `agenda.stop()` releases the locks it holds via `unlockJobs`.
 * Every other multi-statement write (unique upserts, `single` jobs) takes the same write lock, so
 * `unique(..., { insertOnly: true })` keeps one job per key across processes.
 */
export class SqliteJobRepository implements JobRepository {
  private readonly statements = new Map<string, Statement>();

  /**
   * `indexedDataPaths`: job data keys used in unique() (e.g. `userId` for one reminder job per
   * user); each gets an expression index so a unique save is a lookup, not a scan of every job.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly indexedDataPaths: readonly string[] = [],
  ) {}

  async connect(): Promise<void> {
    ensureJobSchema(this.db);
    for (const key of this.indexedDataPaths) {
      const expression = dataPathExpression(key.split('.'));
      if (!expression) throw new Error(`job data path cannot be indexed: ${key}`);
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${T}_data_${key.replaceAll('.', '_')} ON ${T} (name, ${expression})`);
    }
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.get(`SELECT * FROM ${T} WHERE id = ?`, [id]);
    return row ? rowToJob(row) : null;
  }

  async getQueueSize(): Promise<number> {
    const row = this.statement(`SELECT count(*) AS n FROM ${T} WHERE next_run_at < ?`).get(Date.now()) as { n: number };
    return row.n;
  }

  async getDistinctJobNames(): Promise<string[]> {
    const rows = this.statement(`SELECT DISTINCT name FROM ${T} ORDER BY name`).all() as { name: string }[];
    return rows.map((row) => row.name);
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const where = whereClause(queryConditions(options));
    const orderBy = jobsOrderBy(options.sort);
    const { state, skip = 0, limit = 0 } = options;
    const now = new Date();
    // One read transaction so the page and the total come from the same snapshot.
    return this.db.transaction((): JobsResult => {
      if (!state) {
        const rows = this.all(`SELECT * FROM ${T} ${where.sql} ${orderBy} LIMIT ? OFFSET ?`, [...where.params, limit > 0 ? limit : -1, skip]);
        const { n } = this.statement(`SELECT count(*) AS n FROM ${T} ${where.sql}`).get(...where.params) as { n: number };
        return { jobs: rows.map((row) => withState(row, now)), total: n };
      }
      const matching = this.all(`SELECT * FROM ${T} ${where.sql} ${orderBy}`, where.params)
        .map((row) => withState(row, now))
        .filter((job) => (state === 'paused' ? job.disabled === true : job.state === state));
      const page = limit > 0 ? matching.slice(skip, skip + limit) : matching.slice(skip);
      return { jobs: page, total: matching.length };
    })();
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const overviews = new Map<string, JobsOverview>();
    for (const row of this.all(`SELECT * FROM ${T} ORDER BY name`, [])) {
      const overview = overviews.get(row.name) ?? emptyOverview(row.name);
      const job = rowToJob(row);
      overview.total += 1;
      overview[computeJobState(job, now)] += 1;
      if (job.disabled === true) overview.paused += 1;
      overviews.set(row.name, overview);
    }
    return [...overviews.values()];
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    return this.write(() => this.runFiltered(`DELETE FROM ${T}`, options));
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.write(() => this.runFiltered(`UPDATE ${T} SET disabled = 1`, options, 'disabled = 0'));
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.write(() => this.runFiltered(`UPDATE ${T} SET disabled = 0`, options, 'disabled = 1'));
  }

  async purgeAllJobs(): Promise<number> {
    return this.write(() => this.statement(`DELETE FROM ${T}`).run().changes);
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    const lastModifiedBy = options?.lastModifiedBy;
    const saved = await this.write(() =>
      this.db.transaction(() => this.saveWithinTransaction(job as JobParameters, lastModifiedBy, new Date())).immediate(),
    );
    return (saved ?? job) as JobParameters<DATA>;
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const result = await this.write(() => this.statement(
      `UPDATE ${T} SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?,
         fail_count = ?, failed_at = ?, last_finished_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ?`,
    ).run(
      toMillis(job.lockedAt), toMillis(job.nextRunAt), toMillis(job.lastRunAt), job.progress ?? null,
      job.failReason ?? null, job.failCount ?? null, toMillis(job.failedAt), toMillis(job.lastFinishedAt),
      options?.lastModifiedBy ?? null, String(job._id), job.name,
    ));
    if (result.changes !== 1) {
      throw new Error(`job ${String(job._id)} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
    }
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const row = await this.write(() => this.get(
      `UPDATE ${T} SET locked_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at IS ? AND disabled = 0 RETURNING *`,
      [Date.now(), options?.lastModifiedBy ?? null, String(job._id), job.name, toMillis(job.nextRunAt)],
    ));
    return row ? rowToJob(row) : undefined;
  }

  /** Keeps the lock of a job that is running (nextRunAt is null while a one-off job runs). */
  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    await this.write(() => this.statement(`UPDATE ${T} SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL`).run(String(job._id)));
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    const ids = jobIds.map(String);
    await this.write(() => this.statement(`UPDATE ${T} SET locked_at = NULL WHERE id IN (${ids.map(() => '?').join(', ')})`).run(...ids));
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const lockTime = (now ?? new Date()).getTime();
    const locked = await this.write(() =>
      this.db
        .transaction(() => {
          const candidate = this.nextLockable(jobName, nextScanAt.getTime(), lockDeadline.getTime());
          if (!candidate) return undefined;
          return this.get(`UPDATE ${T} SET locked_at = ?, last_modified_by = ? WHERE id = ? RETURNING *`, [
            lockTime, options?.lastModifiedBy ?? null, candidate.id,
          ]);
        })
        .immediate(),
    );
    return locked ? rowToJob(locked) : undefined;
  }

  /** Two index-backed lookups (never locked and due; lock expired), then Agenda's run order. */
  private nextLockable(name: string, nextScanAt: number, lockDeadline: number): JobRow | undefined {
    const due = this.get(
      `SELECT * FROM ${T} WHERE name = ? AND disabled = 0 AND locked_at IS NULL AND next_run_at <= ?
       ORDER BY next_run_at ASC, priority DESC LIMIT 1`,
      [name, nextScanAt],
    );
    const expired = this.get(
      `SELECT * FROM ${T} WHERE name = ? AND disabled = 0 AND locked_at IS NOT NULL AND locked_at <= ?
       ORDER BY next_run_at ASC, priority DESC LIMIT 1`,
      [name, lockDeadline],
    );
    return [due, expired].filter((row): row is JobRow => row !== undefined).sort(runOrder)[0];
  }

  private saveWithinTransaction(job: JobParameters, lastModifiedBy: string | undefined, now: Date): JobParameters | undefined {
    if (job._id) return this.updateById(job, lastModifiedBy);
    if (job.type === 'single') return this.upsertSingle(job, lastModifiedBy, now);
    if (job.unique) return this.upsertUnique(job, job.unique, lastModifiedBy, now);
    return this.insert(job, lastModifiedBy);
  }

  /** A job removed meanwhile stays removed: the caller gets its own data back (undefined here). */
  private updateById(job: JobParameters, lastModifiedBy: string | undefined): JobParameters | undefined {
    const existing = this.get(`SELECT * FROM ${T} WHERE id = ? AND name = ?`, [String(job._id), job.name]);
    return existing ? this.overwrite(existing, mergeSaved(rowToJob(existing), job), lastModifiedBy) : undefined;
  }

  /** `every()` keeps one job per name; a due time already passed must not be pushed back by a restart. */
  private upsertSingle(job: JobParameters, lastModifiedBy: string | undefined, now: Date): JobParameters {
    const existing = this.get(`SELECT * FROM ${T} WHERE name = ? AND type = 'single'`, [job.name]);
    if (!existing) return this.insert(job, lastModifiedBy);
    const current = rowToJob(existing);
    const merged = mergeSaved(current, job);
    if (job.nextRunAt && job.nextRunAt.getTime() <= now.getTime()) merged.nextRunAt = current.nextRunAt;
    return this.overwrite(existing, merged, lastModifiedBy);
  }

  private upsertUnique(job: JobParameters, unique: Record<string, unknown>, lastModifiedBy: string | undefined, now: Date): JobParameters {
    const where = whereClause([{ sql: 'name = ?', params: [job.name] }, ...uniqueFilter(unique)]);
    const existing = this.get(`SELECT * FROM ${T} ${where.sql} ORDER BY rowid LIMIT 1`, where.params);
    const debounce = job.uniqueOpts?.debounce;
    if (existing && job.uniqueOpts?.insertOnly && !debounce) return rowToJob(existing);
    if (!existing) return this.insert(debounce ? debouncedNew(job, debounce, now) : job, lastModifiedBy);
    const current = rowToJob(existing);
    const merged = mergeSaved(current, job);
    return this.overwrite(existing, debounce ? debouncedExisting(merged, current, debounce, now) : merged, lastModifiedBy);
  }

  private insert(job: JobParameters, lastModifiedBy: string | undefined): JobParameters {
    const row = this.statement(INSERT).get(jobToRow(randomUUID(), job, lastModifiedBy)) as JobRow;
    return rowToJob(row);
  }

  private overwrite(existing: JobRow, job: JobParameters, lastModifiedBy: string | undefined): JobParameters {
    const row = this.statement(UPDATE_ALL).get(jobToRow(existing.id, job, lastModifiedBy)) as JobRow;
    return rowToJob(row);
  }

  private runFiltered(statement: string, options: RemoveJobsOptions, extra?: string): number {
    const conditions = removeFilter(options);
    if (!conditions) return 0;
    const where = whereClause(extra ? [...conditions, { sql: extra, params: [] }] : conditions);
    return this.statement(`${statement} ${where.sql}`).run(...where.params).changes;
  }

  /** Every change to the jobs table: see writeWithoutBlocking. */
  private write<T>(change: () => T): Promise<T> {
    return writeWithoutBlocking(this.db, change);
  }

  private get(sql: string, params: unknown[]): JobRow | undefined {
    return this.statement(sql).get(...params) as JobRow | undefined;
  }

  private all(sql: string, params: unknown[]): JobRow[] {
    return this.statement(sql).all(...params) as JobRow[];
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function mergeSaved(existing: JobParameters, job: JobParameters): JobParameters {
  const merged: JobParameters = { ...job };
  for (const field of PROCESSOR_FIELDS) {
    if (!(field in job)) (merged as unknown as Record<string, unknown>)[field] = existing[field];
  }
  return merged;
}

type Debounce = NonNullable<NonNullable<JobParameters['uniqueOpts']>['debounce']>;

function debouncedNew(job: JobParameters, debounce: Debounce, now: Date): JobParameters {
  if (debounce.strategy === 'leading') return { ...job, debounceStartedAt: now };
  return { ...job, nextRunAt: new Date(now.getTime() + debounce.delay), debounceStartedAt: now };
}

/** Trailing pushes the run back on every save, bounded by maxWait; leading keeps the first run time. */
function debouncedExisting(merged: JobParameters, current: JobParameters, debounce: Debounce, now: Date): JobParameters {
  const startedAt = current.debounceStartedAt ?? now;
  if (debounce.strategy === 'leading') return { ...merged, nextRunAt: current.nextRunAt, debounceStartedAt: startedAt };
  if (debounce.maxWait !== undefined && now.getTime() - startedAt.getTime() >= debounce.maxWait) {
    return { ...merged, nextRunAt: now, debounceStartedAt: undefined };
  }
  return { ...merged, nextRunAt: new Date(now.getTime() + debounce.delay), debounceStartedAt: startedAt };
}

function queryConditions(options: JobsQueryOptions): SqlCondition[] {
  const conditions: SqlCondition[] = [];
  const names = (options.names ?? []).filter((name): name is string => typeof name === 'string');
  const ids = (options.ids ?? []).filter((id): id is string => typeof id === 'string');
  if (typeof options.search === 'string' && options.search !== '') {
    conditions.push({ sql: "name LIKE ? ESCAPE '\\'", params: [`%${options.search.replace(/[\\%_]/g, '\\$&')}%`] });
  } else if (typeof options.name === 'string' && options.name !== '') {
    conditions.push({ sql: 'name = ?', params: [options.name] });
  } else if (names.length > 0) {
    conditions.push({ sql: `name IN (${names.map(() => '?').join(', ')})`, params: names });
  }
  if (typeof options.id === 'string' && options.id !== '') conditions.push({ sql: 'id = ?', params: [options.id] });
  else if (ids.length > 0) conditions.push({ sql: `id IN (${ids.map(() => '?').join(', ')})`, params: ids });
  if (options.data !== undefined) conditions.push(...dataFilter(options.data));
  if (options.includeDisabled === false) conditions.push({ sql: 'disabled = 0', params: [] });
  return conditions;
}

function withState(row: JobRow, now: Date): JobWithState {
  const job = rowToJob(row);
  return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
}

function emptyOverview(name: string): JobsOverview {
  const counts: Record<JobState, number> = { running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 };
  return { name, total: 0, ...counts };
}
