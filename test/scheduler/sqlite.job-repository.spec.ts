import { join } from 'node:path';
import { Agenda, type Job, type JobParameters } from 'agenda';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteAgendaBackend } from '../../src/infrastructure/scheduler/sqlite.agenda-backend.js';
import { SqliteJobRepository } from '../../src/infrastructure/scheduler/sqlite.job-repository.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor as waitUntil } from '../support/wait-for.js';

const POLL_MS = 50;
/**
 * Agenda keeps a ref'd liveness timer of lockLifetime / 2 after every run (agenda 6.2.6,
 * JobProcessor.runOrRetry) that stop() does not clear; with the 10-minute default, Jest would
 * wait 5 minutes to exit. A short lifetime keeps that tail short.
 */
const TEST_LOCK_LIFETIME_MS = 2_000;

/** Transient states (one job running, two locked) are looked for every 10 ms. */
const waitFor = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => waitUntil(what, condition, timeoutMs, 10);

function job(overrides: Partial<JobParameters> & { name: string }): JobParameters {
  return { priority: 0, nextRunAt: new Date(Date.now() - 1_000), type: 'normal', data: {}, ...overrides };
}

describe('SQLite job repository', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let file: string;
  let connections: SqliteDatabase[];
  let agendas: Agenda[];

  function connect(): SqliteDatabase {
    const db = openSqlite(file);
    connections.push(db);
    return db;
  }

  async function repository(db = connect()): Promise<SqliteJobRepository> {
    const repo = new SqliteJobRepository(db);
    await repo.connect();
    return repo;
  }

  async function agenda(options: { name?: string; lockLifetime?: number } = {}, db = connect()): Promise<Agenda> {
    const instance = new Agenda({
      backend: new SqliteAgendaBackend(db),
      name: options.name ?? 'worker',
      processEvery: POLL_MS,
      defaultLockLifetime: options.lockLifetime ?? TEST_LOCK_LIFETIME_MS,
    });
    agendas.push(instance);
    await instance.ready;
    return instance;
  }

  beforeEach(() => {
    dir = makeTempDir('tfe-agenda-');
    file = join(dir.path, 'service.sqlite');
    connections = [];
    agendas = [];
  });

  afterEach(async () => {
    await Promise.all(agendas.map((instance) => instance.stop()));
    for (const db of connections) db.close();
    dir.remove();
  });

  describe('run by Agenda', () => {
    it('runs a scheduled job once, with its data, and records that it finished', async () => {
      const worker = await agenda();
      const seen: unknown[] = [];
      worker.define('greet', async (run: Job<{ userId: string }>) => {
        seen.push(run.attrs.data);
      });
      const scheduled = await worker.schedule(new Date(), 'greet', { userId: 'user-1' });
      await worker.start();

      await waitFor('the job to finish', async () => (await worker.db.getJobById(String(scheduled.attrs._id)))?.lastFinishedAt !== undefined);

      expect(seen).toEqual([{ userId: 'user-1' }]);
      const stored = await worker.db.getJobById(String(scheduled.attrs._id));
      expect(stored).toMatchObject({ name: 'greet', nextRunAt: null, lockedAt: undefined, data: { userId: 'user-1' } });
    });

    it('repeats a job with repeatEvery, keeping a single stored job', async () => {
      const worker = await agenda();
      const runs: string[] = [];
      worker.define('tick', async (run: Job) => {
        runs.push(String(run.attrs._id));
      });
      await worker.create('tick', {}).repeatEvery(100).save();
      await worker.start();

      await waitFor('three runs', () => runs.length >= 3);

      expect(new Set(runs).size).toBe(1);
      expect((await worker.queryJobs({ name: 'tick' })).total).toBe(1);
    });

    it('keeps one job per unique key with insertOnly, even when two instances save it', async () => {
      const first = await agenda({ name: 'first' });
      const second = await agenda({ name: 'second' });
      const inAnHour = new Date(Date.now() + 3_600_000);
      const reminder = (instance: Agenda, userId: string, at: Date) =>
        instance.create('remind', { userId }).unique({ 'data.userId': userId }, { insertOnly: true }).schedule(at).save();

      const original = await reminder(first, 'user-1', inAnHour);
      await Promise.all([
        reminder(first, 'user-1', new Date(Date.now() + 60_000)),
        reminder(second, 'user-1', new Date(Date.now() + 120_000)),
        reminder(second, 'user-2', inAnHour),
      ]);

      const { jobs, total } = await first.queryJobs({ name: 'remind', sort: { name: 'asc' } });
      expect(total).toBe(2);
      const forUser1 = jobs.find((stored) => (stored.data as { userId: string }).userId === 'user-1');
      expect(forUser1?._id).toBe(original.attrs._id);
      expect(forUser1?.nextRunAt?.getTime()).toBe(inAnHour.getTime());
    });

    it('cancels jobs by id and by name', async () => {
      const worker = await agenda();
      const later = new Date(Date.now() + 3_600_000);
      const a = await worker.schedule(later, 'remind', { userId: 'a' });
      const b = await worker.schedule(later, 'remind', { userId: 'b' });
      await worker.schedule(later, 'other', {});

      expect(await worker.cancel({ id: a.attrs._id })).toBe(1);
      expect(await worker.db.getJobById(String(a.attrs._id))).toBeNull();
      expect(await worker.db.getJobById(String(b.attrs._id))).not.toBeNull();

      expect(await worker.cancel({ name: 'remind' })).toBe(1);
      expect(await worker.db.getDistinctJobNames()).toEqual(['other']);
    });

    it('lets a live instance pick up a job whose worker died holding an expired lock, not one held freshly', async () => {
      const lockLifetime = 2 * TEST_LOCK_LIFETIME_MS;
      const survivor = await agenda({ name: 'survivor', lockLifetime });
      const runs: string[] = [];
      survivor.define('send-reminder', async (run: Job) => {
        runs.push(String(run.attrs._id));
      });
      await survivor.now('send-reminder', { userId: 'abandoned' });
      await survivor.now('send-reminder', { userId: 'held' });

      // A worker that locked both jobs and then died: one lock is older than the lock lifetime.
      const dead = await repository();
      const longAgo = new Date(Date.now() - 2 * lockLifetime);
      const farFuture = new Date(Date.now() + 60_000);
      const epoch = new Date(0);
      const expiredLock = await dead.getNextJobToRun('send-reminder', farFuture, epoch, longAgo, { lastModifiedBy: 'dead' });
      const freshLock = await dead.getNextJobToRun('send-reminder', farFuture, epoch, new Date(), { lastModifiedBy: 'dead' });
      const [expiredId, heldId] = [expiredLock?._id, freshLock?._id];
      expect([expiredId, heldId].every((id) => id !== undefined) && expiredId !== heldId).toBe(true);

      await survivor.start();
      await waitFor('the abandoned job to be run by the survivor', async () => (await survivor.db.getJobById(String(expiredId)))?.lastFinishedAt !== undefined);

      // The scan that relocked the expired job had already found the fresh lock unlockable.
      expect(runs).toEqual([String(expiredId)]);
      const stillHeld = await survivor.db.getJobById(String(heldId));
      expect(stillHeld?.lockedAt?.getTime()).toBe(freshLock?.lockedAt?.getTime());
      expect(stillHeld?.lastModifiedBy).toBe('dead');
    });

    it('unlocks the jobs it holds when stopped, so another instance runs them', async () => {
      const stopping = await agenda({ name: 'stopping' });
      let releaseFirst: () => void = () => {};
      const firstIsBlocked = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      const runs: Array<[string, string]> = [];
      stopping.define(
        'deliver',
        async (run: Job) => {
          runs.push(['stopping', String(run.attrs._id)]);
          await firstIsBlocked;
        },
        { concurrency: 1 },
      );
      const ids = await Promise.all([1, 2, 3].map(async (n) => String((await stopping.now('deliver', { n })).attrs._id)));
      await stopping.start();
      await waitFor('one job running and the other two locked', async () =>
        runs.length === 1 && (await stopping.queryJobs({ name: 'deliver', state: 'running' })).total === 3,
      );

      await stopping.stop();
      const running = runs[0]?.[1] ?? '';
      const waiting = ids.filter((id) => id !== running);
      for (const id of waiting) expect((await stopping.db.getJobById(id))?.lockedAt).toBeUndefined();
      // A job still running keeps its lock until it completes or the lock expires.
      expect((await stopping.db.getJobById(running))?.lockedAt).toBeDefined();
      releaseFirst();

      const successor = await agenda({ name: 'successor' });
      successor.define('deliver', async (run: Job) => {
        runs.push(['successor', String(run.attrs._id)]);
      });
      await successor.start();
      await waitFor('the successor to run the two waiting jobs', () => runs.length === 3);

      expect(runs.slice(1).map(([, id]) => id).sort()).toEqual([...waiting].sort());
    });

    it('runs each of 200 due jobs exactly once across two instances on one file', async () => {
      const total = 200;
      const first = await agenda({ name: 'first' });
      const second = await agenda({ name: 'second' });
      const runs = new Map<string, string[]>();
      for (const instance of [first, second]) {
        const who = instance.attrs.name;
        instance.define(
          'contended',
          async (run: Job) => {
            const id = String(run.attrs._id);
            runs.set(id, [...(runs.get(id) ?? []), who ?? '']);
            await new Promise((resolve) => setImmediate(resolve));
          },
          { concurrency: 5, lockLimit: 5 },
        );
      }
      const producer = await repository();
      for (let n = 0; n < total; n += 1) await producer.saveJob(job({ name: 'contended', data: { n } }), undefined);

      await Promise.all([first.start(), second.start()]);
      await waitFor(
        'every job to finish',
        async () => (await producer.queryJobs({ name: 'contended', state: 'completed' })).total === total,
        25_000,
      );
      await Promise.all([first.stop(), second.stop()]);

      const duplicates = [...runs.entries()].filter(([, by]) => by.length !== 1);
      expect(duplicates).toEqual([]);
      expect(runs.size).toBe(total);
    }, 30_000);
  });

  describe('locking contract', () => {
    it('hands each due job to exactly one of two connections', async () => {
      const a = await repository();
      const b = await repository();
      for (let n = 0; n < 20; n += 1) await a.saveJob(job({ name: 'race', data: { n } }), undefined);
      const nextScanAt = new Date(Date.now() + 1_000);
      const lockDeadline = new Date(Date.now() - 600_000);

      const locked: string[] = [];
      for (let turn = 0; turn < 25; turn += 1) {
        const next = await (turn % 2 === 0 ? a : b).getNextJobToRun('race', nextScanAt, lockDeadline, undefined, undefined);
        if (next) locked.push(String(next._id));
      }

      expect(locked).toHaveLength(20);
      expect(new Set(locked).size).toBe(20);
    });

    it('relocks only when the lock is older than the deadline, and never a disabled job', async () => {
      const repo = await repository();
      const saved = await repo.saveJob(job({ name: 'expiry' }), undefined);
      await repo.saveJob(job({ name: 'expiry', disabled: true }), undefined);
      const lockedAt = new Date(Date.now() - 5_000);
      const nextScanAt = new Date(Date.now() + 1_000);
      expect((await repo.getNextJobToRun('expiry', nextScanAt, new Date(0), lockedAt, undefined))?._id).toBe(saved._id);

      expect(await repo.getNextJobToRun('expiry', nextScanAt, new Date(lockedAt.getTime() - 1), undefined, undefined)).toBeUndefined();
      const relocked = await repo.getNextJobToRun('expiry', nextScanAt, lockedAt, undefined, undefined);
      expect(relocked?._id).toBe(saved._id);
      expect(relocked?.lockedAt?.getTime()).toBeGreaterThan(lockedAt.getTime());
    });

    it('picks the earliest due job first, then the higher priority', async () => {
      const repo = await repository();
      const at = new Date(Date.now() - 10_000);
      await repo.saveJob(job({ name: 'order', priority: 0, nextRunAt: at, data: 'low' }), undefined);
      await repo.saveJob(job({ name: 'order', priority: 10, nextRunAt: at, data: 'high' }), undefined);
      await repo.saveJob(job({ name: 'order', priority: 20, nextRunAt: new Date(), data: 'later' }), undefined);
      const next = () => repo.getNextJobToRun('order', new Date(Date.now() + 1_000), new Date(0), undefined, undefined);

      expect([(await next())?.data, (await next())?.data, (await next())?.data]).toEqual(['high', 'low', 'later']);
    });

    it('does not let a user save() of a running job drop its lock', async () => {
      const repo = await repository();
      const saved = await repo.saveJob(job({ name: 'touchy', data: { v: 1 } }), undefined);
      const locked = await repo.getNextJobToRun('touchy', new Date(Date.now() + 1_000), new Date(0), undefined, undefined);
      const { lockedAt: _omitted, ...withoutProcessorFields } = { ...saved, data: { v: 2 } };

      await repo.saveJob(withoutProcessorFields, undefined);

      const stored = await repo.getJobById(String(saved._id));
      expect(stored?.data).toEqual({ v: 2 });
      expect(stored?.lockedAt?.getTime()).toBe(locked?.lockedAt?.getTime());
    });

    it('keeps one "single" job per name and does not push back a due time already passed', async () => {
      const repo = await repository();
      const due = new Date(Date.now() - 60_000);
      const first = await repo.saveJob(job({ name: 'cleanup', type: 'single', nextRunAt: due, repeatInterval: '1 day' }), undefined);
      const second = await repo.saveJob(job({ name: 'cleanup', type: 'single', nextRunAt: new Date(), repeatInterval: '2 days' }), undefined);

      expect(second._id).toBe(first._id);
      expect(second.nextRunAt?.getTime()).toBe(due.getTime());
      expect(second.repeatInterval).toBe('2 days');
      expect((await repo.queryJobs({ name: 'cleanup' })).total).toBe(1);
    });

    it('refuses unique() query operators instead of treating them as literal values', async () => {
      const repo = await repository();
      await expect(
        repo.saveJob(job({ name: 'remind', unique: { 'data.userId': { $ne: 'x' } }, uniqueOpts: { insertOnly: true } }), undefined),
      ).rejects.toThrow('Query operators are not supported');
    });

    it('matches unique keys by JSON type, so 5 and "5" are different keys', async () => {
      const repo = await repository();
      const save = (id: unknown) =>
        repo.saveJob(job({ name: 'typed', data: { id }, unique: { 'data.id': id }, uniqueOpts: { insertOnly: true } }), undefined);
      const asNumber = await save(5);
      const asString = await save('5');
      const again = await save(5);

      expect(asString._id).not.toBe(asNumber._id);
      expect(again._id).toBe(asNumber._id);
    });

    it('debounces saves of one unique key: one job, its run pushed back by each save', async () => {
      const repo = await repository();
      const save = (version: number) =>
        repo.saveJob(
          job({ name: 'sync', data: { key: 'k', version }, unique: { 'data.key': 'k' }, uniqueOpts: { debounce: { delay: 60_000 } } }),
          undefined,
        );
      const first = await save(1);
      const second = await save(2);

      expect(second._id).toBe(first._id);
      expect(second.data).toEqual({ key: 'k', version: 2 });
      expect(second.nextRunAt?.getTime()).toBeGreaterThanOrEqual(first.nextRunAt?.getTime() ?? Infinity);
      expect(second.debounceStartedAt?.getTime()).toBe(first.debounceStartedAt?.getTime());
      expect((await repo.queryJobs({ name: 'sync' })).total).toBe(1);
    });

    it('filters, pages and counts jobs, and disables and enables them by name', async () => {
      const repo = await repository();
      for (const n of [1, 2, 3]) await repo.saveJob(job({ name: 'page', data: { n, group: n === 2 ? 'even' : 'odd' } }), undefined);
      await repo.saveJob(job({ name: 'other_name', nextRunAt: new Date(Date.now() + 60_000) }), undefined);

      const page = await repo.queryJobs({ name: 'page', sort: { name: 'asc' }, skip: 1, limit: 1 });
      expect([page.total, page.jobs.length]).toEqual([3, 1]);
      expect((await repo.queryJobs({ data: { group: 'odd' } })).total).toBe(2);
      expect((await repo.queryJobs({ search: 'r_n' })).jobs.map((found) => found.name)).toEqual(['other_name']);
      expect((await repo.queryJobs({ state: 'scheduled' })).total).toBe(1);
      expect(await repo.getQueueSize()).toBe(3);

      expect(await repo.disableJobs({ name: 'page' })).toBe(3);
      expect(await repo.disableJobs({ name: 'page' })).toBe(0);
      expect((await repo.queryJobs({ includeDisabled: false })).total).toBe(1);
      expect((await repo.getJobsOverview()).find((overview) => overview.name === 'page')?.paused).toBe(3);
      expect(await repo.enableJobs({ names: ['page'] })).toBe(3);
      expect(await repo.removeJobs({})).toBe(0);
      expect(await repo.purgeAllJobs()).toBe(4);
    });
  });
});
