import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';
import { buildFindQuery } from '../../src/infrastructure/read-store/sqlite.query.js';
import { normalizeSort } from '../../src/infrastructure/read-store/read-store.pagination.js';
import { DuplicateKeyError, type Filter, type FindOptions } from '../../src/ports/read-store.port.js';
import { makeTempDir } from '../support/temp-dir.js';
import { readStoreContract } from './read-store.contract.js';

readStoreContract('SQLite', async () => {
  const dir = makeTempDir('read-store-');
  const db = openSqlite(join(dir.path, 'service.sqlite'));
  const store = new SqliteReadStore(db);
  return {
    store,
    dispose: async () => {
      await store.close();
      db.close();
      dir.remove();
    },
  };
});

describe('SqliteReadStore on a real file', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let store: SqliteReadStore;

  beforeEach(() => {
    dir = makeTempDir('read-store-sqlite-');
    db = openSqlite(join(dir.path, 'service.sqlite'));
    store = new SqliteReadStore(db);
  });
  afterEach(async () => {
    await store.close();
    db.close();
    dir.remove();
  });

  const plan = (collection: string, filter: Filter, options: FindOptions = {}): string => {
    const query = buildFindQuery(collection, filter, normalizeSort(options.sort), options);
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as Array<{ detail: string }>;
    return rows.map((row) => row.detail).join(' | ');
  };

  const seedMembers = async (count: number): Promise<void> => {
    await store.ensureIndexes('members', [{ fields: ['orgId', 'joinedAt'] }, { fields: ['twoFactor.enabled'] }]);
    await store.write(
      Array.from({ length: count }, (_, i) => ({
        kind: 'upsert' as const,
        collection: 'members',
        doc: { id: `u${String(i).padStart(5, '0')}`, orgId: `o${i % 10}`, joinedAt: i % 97, twoFactor: { enabled: i % 3 === 0 } },
      })),
    );
  };

  it('searches the declared expression index for an equality filter', async () => {
    await seedMembers(200);
    expect(plan('members', { orgId: 'o3' })).toMatch(/SEARCH .*USING INDEX "?rm_members:orgId,joinedAt"? \(<expr>=\?\)/);
    expect(plan('members', { 'twoFactor.enabled': false })).toMatch(/SEARCH .*USING INDEX "?rm_members:twoFactor\.enabled"? \(<expr>=\?\)/);
  });

  it('seeks the declared index for the next page of a sorted, filtered query', async () => {
    await seedMembers(200);
    const options: FindOptions = { sort: [['joinedAt', 1]], limit: 10 };
    const first = await store.find('members', { orgId: 'o3' }, options);
    expect(first.nextCursor).not.toBeNull();
    const next = plan('members', { orgId: 'o3' }, { ...options, cursor: first.nextCursor! });
    expect(next).toMatch(/SEARCH .*USING INDEX "?rm_members:orgId,joinedAt"? \(<expr>=\? AND <expr>>\?\)/);
    expect(next).not.toMatch(/TEMP B-TREE/);
  });

  it('seeks the primary key for the next page in id order', async () => {
    await seedMembers(50);
    const first = await store.find('members', {}, { limit: 10 });
    expect(plan('members', {}, { limit: 10, cursor: first.nextCursor! })).toMatch(/SEARCH .*USING PRIMARY KEY \(id>\?\)/);
  });

  it('patches 10,000 matching documents with one write', async () => {
    await seedMembers(10_000);
    await store.write([{ kind: 'patchMany', collection: 'members', filter: { 'twoFactor.enabled': false }, set: { reminded: true } }]);
    expect(await store.count('members', { reminded: true })).toBe(6_666);
    expect(await store.count('members', { reminded: { $exists: false }, 'twoFactor.enabled': true })).toBe(3_334);
  });

  it('rolls back every operation and the checkpoint when a later operation fails inside the transaction', async () => {
    await store.ensureIndexes('users', [{ fields: ['email'], unique: true }]);
    await store.write([{ kind: 'upsert', collection: 'users', doc: { id: 'taken', email: 'hash-1' } }], { name: 'users-projection', position: '1' });

    const failing = store.write(
      [
        { kind: 'upsert', collection: 'users', doc: { id: 'new', email: 'hash-2' } },
        { kind: 'patch', collection: 'users', id: 'taken', set: { touched: true } },
        { kind: 'upsert', collection: 'users', doc: { id: 'clash', email: 'hash-1' } },
      ],
      { name: 'users-projection', position: '2' },
    );
    await expect(failing).rejects.toThrow(DuplicateKeyError);

    expect(await store.get('users', 'new')).toBeNull();
    expect(await store.get('users', 'taken')).toEqual({ id: 'taken', email: 'hash-1' });
    expect(await store.getCheckpoint('users-projection')).toBe('1');
  });

  it('applies nothing, checkpoint included, when a later operation names an invalid collection', async () => {
    await store.write([], { name: 'p', position: '5' });
    const failing = store.write(
      [
        { kind: 'upsert', collection: 'users', doc: { id: 'a' } },
        { kind: 'upsert', collection: 'Not Valid', doc: { id: 'b' } },
      ],
      { name: 'p', position: '6' },
    );
    await expect(failing).rejects.toThrow(TypeError);
    expect(await store.get('users', 'a')).toBeNull();
    expect(await store.getCheckpoint('p')).toBe('5');
  });

  it('keeps its tables apart from the other tables of the shared file', async () => {
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, body TEXT)');
    db.prepare('INSERT INTO events (body) VALUES (?)').run('{}');
    await store.write([{ kind: 'upsert', collection: 'events', doc: { id: 'e1' } }]);
    await store.drop('events');
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 1 });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all();
    expect(tables).toEqual([{ name: 'events' }, { name: 'read_model_checkpoints' }, { name: 'rm_events' }]);
  });

  it('survives reopening the file with documents, indexes and checkpoints intact', async () => {
    await seedMembers(20);
    await store.write([], { name: 'members-projection', position: '20' });
    await store.close();
    db.close();

    db = openSqlite(join(dir.path, 'service.sqlite'));
    store = new SqliteReadStore(db);
    expect(await store.count('members', { orgId: 'o1' })).toBe(2);
    expect(await store.getCheckpoint('members-projection')).toBe('20');
    expect(plan('members', { orgId: 'o1' })).toMatch(/USING INDEX "?rm_members:orgId,joinedAt"?/);
  });

  it('refuses use after close and reports it through ping', async () => {
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.get('members', 'a')).rejects.toThrow(/closed/);
  });
});
