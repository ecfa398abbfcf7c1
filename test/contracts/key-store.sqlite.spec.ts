import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataKeyErasurePendingError, SqliteKeyStore } from '../../src/infrastructure/crypto/sqlite.key-store.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { keyStoreContract, wrappedKeyFor } from './key-store.contract.js';

describe('SqliteKeyStore contract', () => {
  keyStoreContract(async () => {
    const dir = makeTempDir('tfe-keys-');
    const file = join(dir.path, 'data.sqlite');
    const opened: SqliteDatabase[] = [openSqlite(file)];
    return {
      store: new SqliteKeyStore(opened[0]!),
      reopen: async () => {
        const db = openSqlite(file);
        opened.push(db);
        return new SqliteKeyStore(db);
      },
      cleanup: async () => {
        for (const db of opened) if (db.open) db.close();
        dir.remove();
      },
    };
  });
});

describe('SqliteKeyStore shredding', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let file: string;
  let db: SqliteDatabase;

  beforeEach(() => {
    dir = makeTempDir('tfe-shred-');
    file = join(dir.path, 'data.sqlite');
    db = openSqlite(file);
  });

  afterEach(() => {
    if (db.open) db.close();
    dir.remove();
  });

  /** The wrapped key as raw bytes and as its base64 text, whichever way an adapter stores it. */
  function needles(key: ReturnType<typeof wrappedKeyFor>): Buffer[] {
    return [key.ciphertext, key.tag].flatMap((b64) => [Buffer.from(b64, 'base64'), Buffer.from(b64, 'utf8')]);
  }

  function filesContaining(patterns: Buffer[]): string[] {
    return [file, `${file}-wal`]
      .filter((path) => existsSync(path))
      .filter((path) => {
        const bytes = readFileSync(path);
        return patterns.some((p) => bytes.includes(p));
      });
  }

  it('leaves no copy of the wrapped key in the database file or its WAL', async () => {
    const store = new SqliteKeyStore(db);
    const neighbour = wrappedKeyFor('neighbour');
    const forgotten = wrappedKeyFor('forgotten');
    await store.create(neighbour);
    await store.create(forgotten);
    db.pragma('wal_checkpoint(PASSIVE)');
    // The scan must be able to see a key before we trust it to prove one is gone.
    expect(filesContaining(needles(forgotten)).length).toBeGreaterThan(0);

    await store.delete(forgotten.userId);

    expect(filesContaining(needles(forgotten))).toEqual([]);
    expect(filesContaining(needles(neighbour)).length).toBeGreaterThan(0);
    db.close();
    expect(filesContaining(needles(forgotten))).toEqual([]);
  });

  it('reports erasure pending while a reader pins the WAL, and finishes on a retried delete', async () => {
    const store = new SqliteKeyStore(db);
    const key = wrappedKeyFor('pinned');
    await store.create(key);
    db.pragma('busy_timeout = 0');
    const reader = openSqlite(file);
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM data_keys').get();

      await expect(store.delete(key.userId)).rejects.toBeInstanceOf(DataKeyErasurePendingError);
      await expect(store.get(key.userId)).resolves.toBe('shredded');

      reader.exec('COMMIT');
      await store.delete(key.userId);
      expect(filesContaining(needles(key))).toEqual([]);
    } finally {
      reader.close();
    }
  });
});
