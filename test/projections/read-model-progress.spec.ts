import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { CheckpointProgress } from '../../src/projections/read-model-progress.js';
import { ObservedReadStore } from '../support/observed.read-store.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('read-your-writes waits of an API process without the projector', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let reads: ObservedReadStore;
  let progress: CheckpointProgress;
  const head = { headPosition: async () => '1000' };
  const checkpoint = (name: string, position: string) => reads.write([], { name, position });
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeEach(async () => {
    dir = makeTempDir('tfe-progress-');
    db = openSqlite(join(dir.path, 'derived.sqlite'), { synchronous: 'NORMAL' });
    reads = new ObservedReadStore(db);
    progress = new CheckpointProgress(head, reads, ['directory', 'enforcement']);
    await checkpoint('directory', '5');
    await checkpoint('enforcement', '5');
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('answers each waiter once every projection reached its position, and a waiter out of time with false', async () => {
    expect(await progress.waitFor('5', 0)).toBe(true);
    const waits = Array.from({ length: 50 }, (_, i) => progress.waitFor(String(10 + i), 5_000));
    const unreachable = progress.waitFor('900', 150);

    await settle(60);
    // One projection ahead is not enough: the slowest one decides.
    await checkpoint('directory', '100');
    await settle(60);
    await checkpoint('enforcement', '34');

    expect(await Promise.all(waits.slice(0, 25))).toEqual(Array(25).fill(true));
    expect(await unreachable).toBe(false);
    await checkpoint('enforcement', '59');
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
  });

  it('reads the checkpoints once per poll however many queries wait', async () => {
    /** Checkpoint reads over a fixed stretch of polling, once the waiters' own first reads are done. */
    const readsWhileWaiting = async (): Promise<number> => {
      await settle(0);
      const before = reads.checkpointReads;
      await settle(200);
      return reads.checkpointReads - before;
    };
    const waits = [progress.waitFor('50', 10_000)];
    const alone = await readsWhileWaiting();
    waits.push(...Array.from({ length: 49 }, () => progress.waitFor('50', 10_000)));
    const together = await readsWhileWaiting();
    // A poll per waiter reads fifty times as often with fifty waiting; a shared one as often.
    expect(together).toBeLessThan(10 * (alone + 2));
    await checkpoint('directory', '50');
    await checkpoint('enforcement', '50');
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
  });

  it('answers a position already reached from what it read last, without reading again', async () => {
    expect(await progress.waitFor('5', 0)).toBe(true);
    const readsBefore = reads.checkpointReads;
    expect(await progress.waitFor('3', 0)).toBe(true);
    expect(reads.checkpointReads).toBe(readsBefore);
  });

  it('passes a storage failure to every waiting query', async () => {
    const waits = [progress.waitFor('50', 5_000), progress.waitFor('60', 5_000)];
    reads.failingReads = true;
    for (const wait of waits) await expect(wait).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
  });
});
