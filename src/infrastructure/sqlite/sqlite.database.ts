import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/** How long a write waits for another connection's write lock (busy_timeout; the event store's writer thread too). */
export const LOCK_WAIT_MS = 5_000;

export interface SqliteOptions {
  /**
   * FULL (default) syncs every commit: the event store and the key store, where an acknowledged
   * write must survive power loss. NORMAL syncs at WAL checkpoints: read models, checkpoints and
   * jobs, which are derived from events and roll back only as a suffix, together with their
   * checkpoint.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/**
 * A SQLite file of the embedded profile (embedded.stores.ts: history and keys in one, derived data
 * in another). WAL for concurrent readers; secure_delete so a shredded data key is overwritten
 * rather than left in free pages.
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
  db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
  return db;
}

/**
 * A write on the event loop's thread that waits for another connection's write lock without
 * holding up the loop. SQLite's busy handler sleeps in the calling thread (1, 2, 5, 10… ms), so
 * while the event store's writer thread fsyncs a commit, or the projector in another process
 * commits, every request of this process would stall behind one job update. Each attempt runs
 * with busy_timeout 0 and fails at once with SQLITE_BUSY, before anything is written (`write` is
 * one statement or an IMMEDIATE transaction, which takes the lock first); the next attempt follows
 * a millisecond later, or as soon as this process's event store has committed (writeLockReleased),
 * for as long as busy_timeout would have waited.
 */
export async function writeWithoutBlocking<T>(db: SqliteDatabase, write: () => T): Promise<T> {
  const busyTimeout = busyTimeoutStatements(db);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    busyTimeout.none.get();
    try {
      return write();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    } finally {
      busyTimeout.usual.get();
    }
    await nextTurn(db.name);
  }
}

/** Writes of this process waiting for the write lock on a file, each woken once. */
const waitingWrites = new Map<string, Set<() => void>>();

function nextTurn(file: string): Promise<void> {
  return new Promise((resolve) => {
    let waiting = waitingWrites.get(file);
    if (!waiting) waitingWrites.set(file, (waiting = new Set()));
    const wake = (): void => {
      clearTimeout(timer);
      waiting.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, 1);
    waiting.add(wake);
  });
}

/**
 * The event store's writer thread has committed and released the lock. Its next batch is posted
 * from a setImmediate callback, before any timer of this process fires again, so under steady
 * load a write polling on a timer would find the lock taken every time; woken here, it tries
 * from a microtask, while the lock is free.
 */
export function writeLockReleased(file: string): void {
  const waiting = waitingWrites.get(file);
  if (waiting) for (const wake of [...waiting]) wake();
}

const busyTimeouts = new WeakMap<SqliteDatabase, { readonly none: Database.Statement; readonly usual: Database.Statement }>();

/** Prepared once per connection: these run around every write. */
function busyTimeoutStatements(db: SqliteDatabase): { readonly none: Database.Statement; readonly usual: Database.Statement } {
  let statements = busyTimeouts.get(db);
  if (!statements) {
    statements = { none: db.prepare('PRAGMA busy_timeout = 0'), usual: db.prepare(`PRAGMA busy_timeout = ${LOCK_WAIT_MS}`) };
    busyTimeouts.set(db, statements);
  }
  return statements;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
