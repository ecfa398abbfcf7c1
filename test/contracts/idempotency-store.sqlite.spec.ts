import { join } from 'node:path';
import { SqliteIdempotencyStore } from '../../src/infrastructure/idempotency/sqlite.idempotency-store.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { idempotencyStoreContract } from './idempotency-store.contract.js';

describe('SqliteIdempotencyStore contract', () => {
  idempotencyStoreContract(async () => {
    const dir = makeTempDir('tfe-idempotency-');
    const file = join(dir.path, 'data.sqlite');
    const opened: SqliteDatabase[] = [openSqlite(file)];
    return {
      store: new SqliteIdempotencyStore(opened[0]!),
      reopen: async () => {
        const db = openSqlite(file);
        opened.push(db);
        return new SqliteIdempotencyStore(db);
      },
      cleanup: async () => {
        for (const db of opened) if (db.open) db.close();
        dir.remove();
      },
    };
  });
});
