// @ts-check
/**
 * Checkpoints a WAL-mode SQLite file from a thread of its own. With synchronous=NORMAL a commit
 * does not wait for the disk, but the checkpoint SQLite runs automatically does, inside the commit
 * that crosses its threshold: on the projector's event loop that held each such commit for tens of
 * milliseconds (docs/performance.md, Host cache). Here the fsyncs hold only this thread.
 *
 * PASSIVE: never waits for readers, writers or another checkpoint (it calls no busy handler), so
 * it may leave frames for the next round, as the automatic checkpoint would. Plain JavaScript, type-checked by tsc (checkJs), as the event
 * store's writer thread (a worker thread loads its file with Node's own loader).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {import('./sqlite.checkpointer.js').CheckpointerOptions} CheckpointerOptions */

const { path, intervalMs } = /** @type {CheckpointerOptions} */ (workerData);
const db = new Database(path, { fileMustExist: true });
// As the file's other connections; a checkpoint syncs at NORMAL as at FULL.
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

/** A failed checkpoint (a full disk) is let go, as SQLite lets go of its automatic one: the next round tries again, and the writes themselves report the disk. */
function checkpointNow() {
  try {
    checkpoint.get();
  } catch {
    // See above.
  }
}

const timer = setInterval(checkpointNow, intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpointNow();
  db.close();
  parentPort?.close();
});
