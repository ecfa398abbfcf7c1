import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteCheckpointer } from '../../src/infrastructure/sqlite/sqlite.checkpointer.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The derived file's WAL checkpoints run on a thread of their own: a commit on the event loop no
 * longer waits for the checkpoint's fsyncs, and the pages still reach the database file.
 */
describe('SQLite checkpoints off the event loop', () => {
  const temp = makeTempDir('tfe-checkpointer-');
  afterAll(() => temp.remove());

  const fill = (db: SqliteDatabase, rows: number): void => {
    db.exec('CREATE TABLE IF NOT EXISTS things (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO things (body) VALUES (?)');
    // 3,000 rows of 2 KB: about 1,500 pages, past SQLite's automatic threshold of 1,000.
    for (let i = 0; i < rows; i++) insert.run('x'.repeat(2_000));
  };
  const pagesInDatabaseFile = (file: string): number => Math.floor(statSync(file).size / 4096);

  it('keeps commits from checkpointing, and checkpoints the file from its thread', async () => {
    const file = join(temp.path, 'derived.sqlite');
    const db = openSqlite(file, { synchronous: 'NORMAL' });
    const checkpointer = new SqliteCheckpointer(db);
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      fill(db, 3_000);
      for (let wait = 0; wait < 100 && pagesInDatabaseFile(file) < 1_000; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(pagesInDatabaseFile(file)).toBeGreaterThan(1_000);
      expect(db.prepare('SELECT count(*) AS n FROM things').get()).toEqual({ n: 3_000 });
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('gives the connection its automatic checkpoints back when the thread cannot run', async () => {
    const file = join(temp.path, 'gone.sqlite');
    const db = openSqlite(file, { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (x)');
    // The thread opens the file by name, with fileMustExist: a name that is not there stops it at once.
    const missing = join(temp.path, 'missing', 'nothing.sqlite');
    const unopenable = new Proxy(db, {
      get: (target, key) => {
        if (key === 'name') return missing;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const checkpointer = new SqliteCheckpointer(unopenable);
    await checkpointer.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    db.close();
  });
});
