import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { BatchingView } from '../../src/projections/batch.view.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ObservedReadStore } from '../support/observed.read-store.js';

/** A find must commit the batch only when the batch writes what it finds. */
describe('the batching view', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let store: ObservedReadStore;

  beforeEach(async () => {
    dir = makeTempDir('tfe-batch-view-');
    db = openSqlite(join(dir.path, 'db.sqlite'));
    store = new ObservedReadStore(db);
    await store.write([{ kind: 'upsert', collection: 'members', doc: { id: 'o1|u1', orgId: 'o1' } }]);
    store.writes = 0;
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('answers a find on a collection the batch has not written without committing the batch', async () => {
    const view = new BatchingView(store, { checkpoint: 'p' });
    view.stage([{ kind: 'upsert', collection: 'decisions', doc: { id: 'u1', mode: 'hard' } }], '1');

    const page = await view.find('members', { orgId: 'o1' });

    expect(page.items.map((doc) => doc.id)).toEqual(['o1|u1']);
    expect(store.writes).toBe(0);
    expect(await store.get('decisions', 'u1')).toBeNull();
    expect(await view.get('decisions', 'u1')).toEqual({ id: 'u1', mode: 'hard' });
  });

  it('commits what it staged, with the checkpoint, before a find on a collection it wrote', async () => {
    const view = new BatchingView(store, { checkpoint: 'p' });
    view.stage([{ kind: 'upsert', collection: 'members', doc: { id: 'o1|u2', orgId: 'o1' } }], '1');
    view.stage([{ kind: 'upsert', collection: 'decisions', doc: { id: 'u2', mode: 'soft' } }], '2');

    const page = await view.find('members', { orgId: 'o1' });

    expect(page.items.map((doc) => doc.id).sort()).toEqual(['o1|u1', 'o1|u2']);
    expect(store.writes).toBe(1);
    expect(await store.getCheckpoint('p')).toBe('2');
    expect(await store.get('decisions', 'u2')).toEqual({ id: 'u2', mode: 'soft' });
  });
});
