import type { SqliteDatabase } from '../sqlite/sqlite.database.js';
import type { ClaimRequest, ClaimResult, IdempotencyRecord, IdempotencyStore, StoredAnswer } from '../../ports/idempotency-store.port.js';

interface RecordRow {
  fingerprint: string;
  lease_until: number | null;
  expires_at: number;
  status: number | null;
  answer: string | null;
}

/** Expired rows are deleted at most this often, by the claims that happen to come by. */
const PURGE_EVERY_MS = 60_000;

/**
 * Idempotency records in the history's SQLite file (table `idempotency_records`). A row is an
 * unfinished claim while `status` is NULL. Times are epoch milliseconds given by the caller.
 * secure_delete (see openSqlite) zeroes purged answers in the page rather than leaving them in
 * free space, though they are sealed anyway.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS idempotency_records (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      claim_token TEXT,
      lease_until INTEGER,
      expires_at INTEGER NOT NULL,
      status INTEGER,
      answer TEXT,
      CHECK ((status IS NULL) = (claim_token IS NOT NULL) AND (status IS NULL) = (answer IS NULL))
    ) STRICT;
    CREATE INDEX IF NOT EXISTS idempotency_records_by_expiry ON idempotency_records (expires_at)`);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = request.now.getTime();
    this.purgeExpired(now);
    // One statement decides insert or takeover; the read that follows a refusal sits in the same
    // IMMEDIATE transaction, so it sees the row that refused us, not a later one.
    return this.db.transaction((): ClaimResult => {
      const taken = this.db
        .prepare(
          `INSERT INTO idempotency_records (key, fingerprint, claim_token, lease_until, expires_at)
           VALUES (@key, @fingerprint, @token, @leaseUntil, @expiresAt)
           ON CONFLICT (key) DO UPDATE SET
             fingerprint = excluded.fingerprint, claim_token = excluded.claim_token, lease_until = excluded.lease_until,
             expires_at = CASE WHEN idempotency_records.expires_at <= @now THEN excluded.expires_at ELSE idempotency_records.expires_at END,
             status = NULL, answer = NULL
           WHERE idempotency_records.expires_at <= @now
              OR (idempotency_records.status IS NULL AND idempotency_records.lease_until <= @now
                  AND idempotency_records.fingerprint = excluded.fingerprint)`,
        )
        .run({ key: request.key, fingerprint: request.fingerprint, token: request.token, leaseUntil: request.leaseUntil.getTime(), expiresAt: request.expiresAt.getTime(), now });
      if (taken.changes === 1) return { claimed: true };
      const row = this.db.prepare('SELECT fingerprint, lease_until, expires_at, status, answer FROM idempotency_records WHERE key = ?').get(request.key) as RecordRow;
      return { claimed: false, record: toRecord(row) };
    }).immediate();
  }

  async complete(key: string, token: string, answer: StoredAnswer): Promise<boolean> {
    const updated = this.db
      .prepare(
        `UPDATE idempotency_records SET status = ?, answer = ?, claim_token = NULL, lease_until = NULL
         WHERE key = ? AND claim_token = ? AND status IS NULL`,
      )
      .run(answer.status, answer.sealed, key, token);
    return updated.changes === 1;
  }

  async release(key: string, token: string): Promise<void> {
    this.db.prepare('DELETE FROM idempotency_records WHERE key = ? AND claim_token = ? AND status IS NULL').run(key, token);
  }

  /** The connection is shared with the other embedded adapters; whoever opened it closes it. */
  async close(): Promise<void> {}

  private purgeExpired(now: number): void {
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    this.db.prepare('DELETE FROM idempotency_records WHERE expires_at <= ?').run(now);
  }
}

function toRecord(row: RecordRow): IdempotencyRecord {
  const expiresAt = new Date(row.expires_at);
  if (row.status === null || row.answer === null) return { state: 'in_progress', fingerprint: row.fingerprint, leaseUntil: new Date(row.lease_until ?? 0), expiresAt };
  return { state: 'completed', fingerprint: row.fingerprint, answer: { status: row.status, sealed: row.answer }, expiresAt };
}
