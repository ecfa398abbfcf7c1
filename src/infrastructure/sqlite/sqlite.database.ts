import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

export interface SqliteOptions {
  /**
   * FULL (default) syncs every commit: the event store and the key store, where an acknowledged
   * write must survive power loss. NORMAL syncs at WAL checkpoints: read models, checkpoints and
   * jobs, which are derived from events and roll back only as a suffix, together with their
   * checkpoint (a later FULL commit on the same file syncs the shared WAL up to that point too).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/**
 * One SQLite file holds the event store, read models, checkpoints, keys and jobs (embedded profile).
 * WAL for concurrent readers; secure_delete so a shredded data key is overwritten rather than left
 * in free pages.
 */
export function openSqlite(path: string, options: SqliteOptions = {}): SqliteDatabase {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Wrapped keys and encrypted personal data live here; SQLite gives its -wal/-shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
