// @ts-check
/**
 * The SQLite event store's writer thread. better-sqlite3 is synchronous, so a commit with
 * synchronous=FULL holds its thread for the fsync, and a write lock held by another connection (a
 * data key or an idempotency record being written) holds it in SQLite's busy handler; here that
 * thread is not the event loop that parses requests and answers them.
 *
 * The main thread decides what to write (expected revision, retries by event id, the hash chain)
 * from what it reads or last committed; this thread only commits, and commits an append only if
 * its stream's head is still the one it was decided on, so a write from elsewhere in between sends
 * the append back to be decided again instead of being overwritten or chained onto the wrong head.
 *
 * Plain JavaScript, type-checked by tsc (checkJs): a worker thread loads its file with Node's own
 * loader, which the test runner's TypeScript transform does not reach.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {import('./sqlite.event-writer.js').WriterRequest} WriterRequest */
/** @typedef {import('./sqlite.event-writer.js').WriterReply} WriterReply */
/** @typedef {import('./sqlite.event-writer.js').PreparedAppend} PreparedAppend */
/** @typedef {import('./sqlite.event-writer.js').WriteOutcome} WriteOutcome */
/** @typedef {import('./sqlite.event-writer.js').WriterOptions} WriterOptions */

const { path, readonly, lockWaitMs } = /** @type {WriterOptions} */ (workerData);
const db = new Database(path, { readonly, fileMustExist: true });
// As every event store connection (sqlite.database.ts): an acknowledged append survives power loss.
db.pragma('synchronous = FULL');
// The write lock is waited for below, in 1 ms steps: SQLite's own busy handler sleeps 1, 2, 5, 10,
// 15, 20, 25… ms between tries, so a lock released after 20 ms is taken only after 33.
db.pragma('busy_timeout = 0');
const pause = new Int32Array(new SharedArrayBuffer(4));

const head = db.prepare('SELECT revision, event_id AS eventId FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1');
const insert = db.prepare('INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');

/** Called inside `commitBatch`, so it runs as a SAVEPOINT: a failing append leaves the others. */
const appendInSavepoint = db.transaction(
  /** @type {(append: PreparedAppend) => WriteOutcome} */
  (append) => {
    const current = /** @type {{ revision: number, eventId: string } | undefined} */ (head.get(append.stream));
    // The revision and the event there: rows chained after an append of the same batch that did not
    // commit must not land on an event another writer put at the same revision meanwhile.
    if ((current?.revision ?? -1) !== append.after || (current?.eventId ?? null) !== append.afterEventId) return { kind: 'moved' };
    let position = 0;
    for (const row of append.rows) {
      try {
        position = Number(insert.run(append.stream, row.revision, row.eventId, row.type, row.data, row.metadata).lastInsertRowid);
      } catch (error) {
        if (isUniqueEventIdViolation(error)) throw new EventIdTaken(row.eventId);
        throw error;
      }
    }
    return { kind: 'committed', position };
  },
);

/** One IMMEDIATE transaction, one fsync, for every append of the batch. */
const commitBatch = db.transaction(
  /** @type {(appends: readonly PreparedAppend[]) => WriteOutcome[]} */
  (appends) =>
    appends.map((append) => {
      try {
        return appendInSavepoint(append);
      } catch (error) {
        // Anything else (a full disk, I/O) fails the whole batch: SQLite may already have rolled
        // the transaction back, and the appends after this one must not commit one by one.
        if (error instanceof EventIdTaken) return { kind: 'event-id-taken', eventId: error.eventId };
        throw error;
      }
    }),
);

class EventIdTaken extends Error {
  /** @param {string} eventId */
  constructor(eventId) {
    super('event id taken');
    this.eventId = eventId;
  }
}

/**
 * Runs the transaction, trying again while another connection holds the write lock (BEGIN
 * IMMEDIATE answers SQLITE_BUSY at once, before anything is read or written), for lockWaitMs.
 * This thread has nothing else to do meanwhile, so it may block.
 * @template T
 * @param {() => T} run
 * @returns {T}
 */
function withWriteLock(run) {
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      return run();
    } catch (error) {
      if (/** @type {{ code?: unknown }} */ (error ?? {}).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** @param {unknown} error */
function isUniqueEventIdViolation(error) {
  const { code, message } = /** @type {{ code?: unknown, message?: unknown }} */ (error ?? {});
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && String(message).includes('events.event_id');
}

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
port.on('message', (/** @type {WriterRequest} */ request) => {
  /** @type {WriterReply} */
  let reply;
  try {
    // IMMEDIATE takes the write lock before the head reads: a deferred transaction that reads and
    // then writes fails with SQLITE_BUSY_SNAPSHOT if another process wrote in between.
    reply = { id: request.id, outcomes: withWriteLock(() => commitBatch.immediate(request.appends)) };
  } catch (error) {
    const { code, message } = /** @type {{ code?: unknown, message?: unknown }} */ (error ?? {});
    reply = { id: request.id, failure: { code: typeof code === 'string' ? code : undefined, message: String(message) } };
  }
  port.postMessage(reply);
});
