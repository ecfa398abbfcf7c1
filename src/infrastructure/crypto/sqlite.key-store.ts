import type { SqliteDatabase } from '../sqlite/sqlite.database.js';
import { DataKeyExistsError, DataKeyShreddedError, type KeyStore, type WrappedKey } from '../../ports/key-store.port.js';

interface KeyRow {
  user_id: string;
  key_id: string | null;
  iv: Buffer | null;
  ciphertext: Buffer | null;
  tag: Buffer | null;
  created_at: string | null;
  shredded_at: string | null;
}

export class DataKeyErasurePendingError extends Error {
  override readonly name = 'DataKeyErasurePendingError';
  constructor(readonly userId: string) {
    super(`data key of user ${userId} is tombstoned but the WAL still holds old pages (readers busy); retry the forget`);
  }
}

/** Each attempt already waits busy_timeout for readers (see openSqlite), so few are needed. */
const CHECKPOINT_ATTEMPTS = 3;
const CHECKPOINT_BACKOFF_MS = 50;

/**
 * Data keys in the history's SQLite file. A tombstone is the same row with the material set to NULL:
 * the user id and key id stay so the key can never be re-created. openSqlite turns secure_delete
 * on, so SQLite zeroes the freed cell bytes instead of leaving them in the page.
 */
export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
      user_id TEXT PRIMARY KEY,
      key_id TEXT,
      iv BLOB,
      ciphertext BLOB,
      tag BLOB,
      created_at TEXT,
      shredded_at TEXT,
      CHECK ((shredded_at IS NULL) = (ciphertext IS NOT NULL))
    ) STRICT`);
  }

  async create(key: WrappedKey): Promise<void> {
    const inserted = this.db
      .prepare(
        `INSERT INTO data_keys (user_id, key_id, iv, ciphertext, tag, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
      )
      .run(key.userId, key.keyId, fromBase64(key.iv), fromBase64(key.ciphertext), fromBase64(key.tag), key.createdAt);
    if (inserted.changes === 1) return;
    const existing = this.row(key.userId);
    throw existing?.shredded_at ? new DataKeyShreddedError(key.userId) : new DataKeyExistsError(key.userId);
  }

  async get(userId: string): Promise<WrappedKey | 'shredded' | null> {
    const row = this.row(userId);
    if (!row) return null;
    if (row.shredded_at || !row.key_id || !row.iv || !row.ciphertext || !row.tag || !row.created_at) return 'shredded';
    return {
      userId,
      keyId: row.key_id,
      iv: row.iv.toString('base64'),
      ciphertext: row.ciphertext.toString('base64'),
      tag: row.tag.toString('base64'),
      createdAt: row.created_at,
    };
  }

  async delete(userId: string): Promise<void> {
    this.tombstone(userId, new Date().toISOString());
    await this.checkpointWal(userId);
  }

  /** The connection is shared with the other embedded adapters; whoever opened it closes it. */
  async close(): Promise<void> {}

  /**
   * Zeroing the blobs first rewrites the cell in place (same size), so the material is gone from
   * the page even if secure_delete were ever turned off on this shared connection.
   */
  private tombstone(userId: string, shreddedAt: string): void {
    const zero = this.db.prepare(
      `UPDATE data_keys SET iv = zeroblob(length(iv)), ciphertext = zeroblob(length(ciphertext)),
         tag = zeroblob(length(tag)) WHERE user_id = ? AND ciphertext IS NOT NULL`,
    );
    const mark = this.db.prepare(
      `INSERT INTO data_keys (user_id, shredded_at) VALUES (?, ?)
       ON CONFLICT (user_id) DO UPDATE SET iv = NULL, ciphertext = NULL, tag = NULL,
         shredded_at = COALESCE(shredded_at, excluded.shredded_at)`,
    );
    this.db.transaction(() => {
      zero.run(userId);
      mark.run(userId, shreddedAt);
    })();
  }

  private row(userId: string): KeyRow | undefined {
    return this.db.prepare('SELECT * FROM data_keys WHERE user_id = ?').get(userId) as KeyRow | undefined;
  }

  /**
   * The WAL still holds the page frames written when the key was created. A TRUNCATE checkpoint
   * copies the zeroed page into the database and empties the WAL; it cannot finish while another
   * connection reads an older snapshot, so we retry a bounded number of times and then report it.
   */
  private async checkpointWal(userId: string): Promise<void> {
    for (let attempt = 1; attempt <= CHECKPOINT_ATTEMPTS; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (!result || result.busy === 0) return;
      await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_BACKOFF_MS * attempt));
    }
    throw new DataKeyErasurePendingError(userId);
  }
}

function fromBase64(value: string): Buffer {
  return Buffer.from(value, 'base64');
}
