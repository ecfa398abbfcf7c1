import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { SqliteKeyStore } from '../infrastructure/crypto/sqlite.key-store.js';
import { SqliteEventStore } from '../infrastructure/event-store/sqlite.event-store.js';
import { SqliteIdempotencyStore } from '../infrastructure/idempotency/sqlite.idempotency-store.js';
import { SqliteReadStore } from '../infrastructure/read-store/sqlite.read-store.js';
import { SqliteAgendaBackend } from '../infrastructure/scheduler/sqlite.agenda-backend.js';
import { openSqlite } from '../infrastructure/sqlite/sqlite.database.js';
import { guardStorage, SqliteStorageHealth } from '../infrastructure/sqlite/sqlite.storage-failure.js';
import type { ProfileStores } from './profile.stores.js';

import { DATABASE_FILE } from './data-dir.files.js';


/**
 * Embedded profile: one SQLite file. History, data keys and idempotency records share a connection with
 * `synchronous=FULL`; derived data (read models, jobs) uses a second one with NORMAL, since it
 * can always be rebuilt from history.
 */
export async function embeddedProfileStores(config: Config): Promise<ProfileStores> {
  const file = join(config.DATA_DIR, DATABASE_FILE);
  const db = openSqlite(file);
  const derivedDb = openSqlite(file, { synchronous: 'NORMAL' });
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
      derivedDb.close();
      db.close();
    },
  };
}
