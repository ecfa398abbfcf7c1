import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite.database.js';

export interface CheckpointerOptions {
  readonly path: string;
  readonly intervalMs: number;
}

/** Often enough that the WAL stays around the size SQLite's own threshold (1,000 pages) keeps it at 1,000 commands/s. */
const INTERVAL_MS = 100;

/**
 * Moves the WAL checkpoints of a NORMAL-synchronous file (the derived data) off the event loop: the
 * connection stops checkpointing in its commits, and a thread of its own checkpoints the file
 * (sqlite.checkpointer.worker.js). The thread is unref'd: it keeps no process alive.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(db: SqliteDatabase) {
    db.pragma('wal_autocheckpoint = 0');
    const options: CheckpointerOptions = { path: db.name, intervalMs: INTERVAL_MS };
    this.worker = new Worker(new URL('./sqlite.checkpointer.worker.js', import.meta.url), { workerData: options });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // A thread that cannot start or fails leaves the connection without checkpoints: it takes them back.
    this.worker.once('error', () => db.open && db.pragma('wal_autocheckpoint = 1000'));
    this.worker.unref();
  }

  /** A last checkpoint, then the thread's connection closes; before the file's other connections close. */
  async close(): Promise<void> {
    // Held from here: an unref'd thread's exit would not keep the process alive for this await.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
