import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * One SQLite file holds the event store, read models, checkpoints, keys and jobs (embedded profile).
 * WAL for concurrent readers; synchronous=FULL so an acknowledged append survives power loss and
 * kill -9; secure_delete so a shredded data key is overwritten rather than left in free pages.
 */
export function openSqlite(path: string): SqliteDatabase {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Wrapped keys and encrypted personal data live here; SQLite gives its -wal/-shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
