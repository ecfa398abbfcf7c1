import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { SqliteKeyStore } from '../infrastructure/crypto/sqlite.key-store.js';
import { SqliteEventStore } from '../infrastructure/event-store/sqlite.event-store.js';
import { SqliteIdempotencyStore } from '../infrastructure/idempotency/sqlite.idempotency-store.js';
import { SqliteReadStore } from '../infrastructure/read-store/sqlite.read-store.js';
import { SqliteAgendaBackend } from '../infrastructure/scheduler/sqlite.agenda-backend.js';
import { openSqlite, type SqliteDatabase } from '../infrastructure/sqlite/sqlite.database.js';
import { SqliteCheckpointer } from '../infrastructure/sqlite/sqlite.checkpointer.js';
import { guardStorage, SqliteStorageHealth } from '../infrastructure/sqlite/sqlite.storage-failure.js';
import type { ProfileStores } from './profile.stores.js';

import { DATABASE_FILE, DERIVED_DATABASE_FILE } from './data-dir.files.js';

/**
 * Embedded profile: two SQLite files. History, data keys and idempotency records share a
 * connection with `synchronous=FULL`; derived data (read models, checkpoints, saga state, jobs)
 * lives in a file of its own with NORMAL: a suffix lost to a power cut rolls back together with
 * its checkpoints, and is written again from history.
 *
 * Two files, not one, because SQLite's write lock is per file: in one file every projector commit
 * held the lock that appends wait for, and when the projector's process lost its core mid-commit
 * on a busy machine, every command's answer waited with it (docs/architecture.md, "Two SQLite
 * files"). A data directory made before the split keeps its single file.
 */
export async function embeddedProfileStores(config: Config): Promise<ProfileStores> {
  const file = join(config.DATA_DIR, DATABASE_FILE);
  const db = openSqlite(file);
  const derivedDb = openSqlite(derivedFile(config.DATA_DIR, db, file), { synchronous: 'NORMAL' });
  const checkpointer = new SqliteCheckpointer(derivedDb);
  // A full or read-only disk answers 503 storage_unavailable and turns readiness off (see guardStorage).
  const health = new SqliteStorageHealth(db);
  const eventStore = guardStorage(new SqliteEventStore(db), health);
  const readStore = guardStorage(new SqliteReadStore(derivedDb), health);
  const keyStore = guardStorage(new SqliteKeyStore(db), health);
  const idempotencyStore = guardStorage(new SqliteIdempotencyStore(db), health);
  return {
    eventStore,
    readStore,
    keyStore,
    idempotencyStore,
    agendaBackend: new SqliteAgendaBackend(derivedDb, ['userId', 'causeId'], (repository) => guardStorage(repository, health)),
    async close() {
      await eventStore.close();
      await readStore.close();
      await keyStore.close();
      await idempotencyStore.close();
      await checkpointer.close();
      derivedDb.close();
      db.close();
    },
  };
}

/**
 * A data directory whose main file already holds checkpoints and no derived file was written
 * before the split: its read models and jobs stay where they are, because a new empty file would
 * make every saga replay history from the start, while its jobs stayed behind in the old file.
 */
function derivedFile(dataDir: string, db: SqliteDatabase, file: string): string {
  const derived = join(dataDir, DERIVED_DATABASE_FILE);
  if (existsSync(derived)) return derived;
  const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'read_model_checkpoints'").get() !== undefined;
  return legacy ? file : derived;
}
