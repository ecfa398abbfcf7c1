import { join } from 'node:path';
import { openSqlite, writeLockReleased, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';
import { SqliteJobRepository } from '../../src/infrastructure/scheduler/sqlite.job-repository.js';
import { DuplicateKeyError } from '../../src/ports/read-store.port.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Read-model and job writes run on the event loop's thread. While another connection holds the
 * write lock (the event store's writer thread fsyncing, the projector in another process), they
 * wait without blocking that thread: with SQLite's own busy handler, the holder here (a second
 * connection on the same thread) could never release the lock, and each write would block for the
 * whole busy_timeout and then fail.
 */
describe('SQLite writes waiting for another connection\'s write lock', () => {
  const temp = makeTempDir('tfe-write-lock-');
  const file = join(temp.path, 'two-factor.sqlite');
  let db: SqliteDatabase;
  let other: SqliteDatabase;
  let readStore: SqliteReadStore;
  let jobs: SqliteJobRepository;

  beforeAll(async () => {
    db = openSqlite(file, { synchronous: 'NORMAL' });
    other = openSqlite(file);
    readStore = new SqliteReadStore(db);
    jobs = new SqliteJobRepository(db);
    await jobs.connect();
    await readStore.write([{ kind: 'upsert', collection: 'things', doc: { id: 'a', n: 1 } }]);
  });
  afterAll(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    db.close();
    temp.remove();
  });

  /** Holds the lock on `other` while timers keep firing here, then releases it. */
  async function whileLocked<T>(write: () => Promise<T>): Promise<{ result: T; ticksWhileLocked: number; settledWhileLocked: boolean }> {
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const writing = write().finally(() => (settled = true));
    let ticks = 0;
    while (ticks < 5) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      ticks++;
    }
    const settledWhileLocked = settled;
    other.exec('COMMIT');
    return { result: await writing, ticksWhileLocked: ticks, settledWhileLocked };
  }

  it('commits a read-model write once the lock is released, the event loop running meanwhile', async () => {
    const outcome = await whileLocked(() => readStore.write([{ kind: 'patch', collection: 'things', id: 'a', set: { n: 2 } }], { name: 'things-projection', position: '7' }));
    expect(outcome.ticksWhileLocked).toBe(5);
    expect(outcome.settledWhileLocked).toBe(false);
    expect(await readStore.get('things', 'a')).toEqual({ id: 'a', n: 2 });
    expect(await readStore.getCheckpoint('things-projection')).toBe('7');
  });

  it('saves and locks a job once the lock is released, the event loop running meanwhile', async () => {
    const saving = await whileLocked(() => jobs.saveJob({ name: 'send-reminder', type: 'normal', priority: 0, nextRunAt: new Date(Date.now() - 1_000), data: { userId: 'u1' } }, undefined));
    expect(saving.settledWhileLocked).toBe(false);
    expect(saving.result._id).toBeDefined();
    const locking = await whileLocked(() => jobs.getNextJobToRun('send-reminder', new Date(), new Date(Date.now() - 60_000), undefined, undefined));
    expect(locking.settledWhileLocked).toBe(false);
    expect(locking.result?._id).toBe(saving.result._id);
    expect((await jobs.getJobById(String(saving.result._id)))?.lockedAt).toBeInstanceOf(Date);
  });

  it('tries again as soon as this process\'s event store says it released the lock, before any timer', async () => {
    other.exec('BEGIN IMMEDIATE');
    let written = false;
    const writing = readStore.write([{ kind: 'patch', collection: 'things', id: 'a', set: { n: 14 } }]).then(() => (written = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    other.exec('COMMIT');
    writeLockReleased(file);
    // Only microtasks run here: a write waiting for its 1 ms timer would still be waiting.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    const writtenBeforeAnyTimer = written;
    await writing;
    expect(writtenBeforeAnyTimer).toBe(true);
    expect(await readStore.get('things', 'a')).toEqual({ id: 'a', n: 14 });
  });

  it('passes on a write that fails for another reason, changing nothing', async () => {
    await readStore.ensureIndexes('people', [{ fields: ['email'], unique: true }]);
    await readStore.write([{ kind: 'upsert', collection: 'people', doc: { id: 'p1', email: 'x' } }]);
    const duplicate = readStore.write([
      { kind: 'patch', collection: 'things', id: 'a', set: { n: 3 } },
      { kind: 'upsert', collection: 'people', doc: { id: 'p2', email: 'x' } },
    ]);
    await expect(duplicate).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await readStore.get('things', 'a')).toEqual({ id: 'a', n: 14 });
  });
});
