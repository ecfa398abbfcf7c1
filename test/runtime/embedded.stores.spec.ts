import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { toNewEvents } from '../../src/application/command-handling.js';
import { loadConfig } from '../../src/config/config.js';
import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';
import { openSqlite } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { DATABASE_FILE, DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { embeddedProfileStores } from '../../src/runtime/embedded.stores.js';
import { makeTempDir } from '../support/temp-dir.js';

function tablesOf(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((row) => row.name);
  } finally {
    db.close();
  }
}

async function withStores(dataDir: string, use: (stores: Awaited<ReturnType<typeof embeddedProfileStores>>) => Promise<void>): Promise<void> {
  const stores = await embeddedProfileStores(loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: 'x'.repeat(32), MASTER_KEY: undefined }));
  try {
    await use(stores);
  } finally {
    await stores.close();
  }
}

describe('the embedded profile on disk', () => {
  it('keeps history in one file and read models, checkpoints and jobs in another', async () => {
    const temp = makeTempDir('tfe-layout-');
    try {
      await withStores(temp.path, async (stores) => {
        const context = { commandId: randomUUID(), actor: { id: 'host-platform', roles: ['platform' as const] }, correlationId: randomUUID(), now: new Date() };
        await stores.eventStore.append('organisation-acme', toNewEvents([{ type: 'OrganisationRegistered', data: { orgId: 'acme', name: 'Acme' } }], context), 'no_stream');
        await stores.readStore.write([{ kind: 'upsert', collection: 'organisations', doc: { id: 'acme', name: 'Acme' } }], { name: 'directory', position: '1' });
      });
      const history = tablesOf(join(temp.path, DATABASE_FILE));
      const derived = tablesOf(join(temp.path, DERIVED_DATABASE_FILE));
      expect(history).toContain('events');
      expect(history).not.toContain('read_model_checkpoints');
      expect(history.filter((name) => name.startsWith('rm_'))).toEqual([]);
      expect(derived).toEqual(expect.arrayContaining(['read_model_checkpoints', 'rm_organisations']));
      expect(derived).not.toContain('events');
    } finally {
      temp.remove();
    }
  });

  it('leaves a data directory from before the split on its single file', async () => {
    const temp = makeTempDir('tfe-layout-');
    try {
      const file = join(temp.path, DATABASE_FILE);
      const old = openSqlite(file, { synchronous: 'NORMAL' });
      const oldStore = new SqliteReadStore(old);
      await oldStore.write([{ kind: 'upsert', collection: 'organisations', doc: { id: 'acme', name: 'Acme' } }], { name: 'directory', position: '7' });
      await oldStore.close();
      old.close();

      await withStores(temp.path, async (stores) => {
        expect(await stores.readStore.get('organisations', 'acme')).toEqual({ id: 'acme', name: 'Acme' });
        expect(await stores.readStore.getCheckpoint('directory')).toBe('7');
      });
      expect(existsSync(join(temp.path, DERIVED_DATABASE_FILE))).toBe(false);
    } finally {
      temp.remove();
    }
  });
});
