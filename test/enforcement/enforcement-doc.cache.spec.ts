import { Writable } from 'node:stream';
import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite.event-store.js';
import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';
import { createLogger } from '../../src/infrastructure/logging/pino.logger.js';
import { toNewEvents } from '../../src/application/command-handling.js';
import { newId } from '../../src/kernel/ids.js';
import { ProjectionRunner } from '../../src/projections/projection.runner.js';
import { ChangeAnnouncingReadStore, type ChangedDocs } from '../../src/projections/read-model.changes.js';
import { ENFORCEMENT, enforcementProjection } from '../../src/enforcement/enforcement.projection.js';
import { EnforcementDocCache } from '../../src/enforcement/enforcement-doc.cache.js';
import type { Doc } from '../../src/ports/read-store.port.js';
import { makeTempDir } from '../support/temp-dir.js';

const actor = { id: 'test', roles: [] };
const context = () => ({ commandId: newId(), correlationId: 'c', actor, now: new Date('2026-01-01T00:00:00Z') });

/** The real read store, counting the lookups that reach it (a cache hit does not). */
class CountingReadStore extends SqliteReadStore {
  lookups: string[] = [];
  /** While set, a lookup answers only once it settles: what it read may have changed meanwhile. */
  hold: Promise<void> | null = null;
  override async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    this.lookups.push(id);
    const doc = await super.get<T>(collection, id);
    if (this.hold) await this.hold;
    return doc;
  }
}

describe('enforcement document cache', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let events: SqliteEventStore;
  let reads: CountingReadStore;
  let announcing: ChangeAnnouncingReadStore;
  let runner: ProjectionRunner;

  beforeEach(async () => {
    dir = makeTempDir('tfe-doc-cache-');
    db = openSqlite(join(dir.path, 'db.sqlite'));
    events = new SqliteEventStore(db, { pollIntervalMs: 20 });
    reads = new CountingReadStore(db);
    announcing = new ChangeAnnouncingReadStore(reads);
    runner = new ProjectionRunner(events, announcing, [enforcementProjection], createLogger('warn', new Writable({ write: (_c, _e, done) => done() })));
    await runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await events.close();
    db.close();
    dir.remove();
  });

  const record = async (stream: string, type: string, data: Record<string, unknown>): Promise<string> => {
    const { position } = await events.append(stream, toNewEvents([{ type, data } as never], context()), 'any');
    expect(await runner.waitFor(position, 10_000)).toBe(true);
    return position;
  };
  const register = (userId: string) => record(`user-${userId}`, 'UserRegistered', { userId, email: { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' } });

  it('answers what the projection committed last once its position is reached, though it held the older document', async () => {
    const cache = new EnforcementDocCache(announcing, announcing, 10);
    await register('u1');
    expect((await cache.get('u1'))?.twoFactorEnabled).toBe(false);
    expect((await cache.get('u1'))?.twoFactorEnabled).toBe(false);
    expect(reads.lookups).toEqual(['u1']);
    await record('user-u1', 'TwoFactorEnabled', {});
    expect((await cache.get('u1'))?.twoFactorEnabled).toBe(true);
    await record('organisation-o1', 'OrganisationRegistered', { orgId: 'o1', name: 'O1' });
    await record('organisation-o1', 'MemberJoinedOrg', { userId: 'u1', role: 'member' });
    expect(Object.values((await cache.get('u1'))!.orgs).map((m) => [m.orgId, m.mode])).toEqual([['o1', 'off']]);
    // A policy change fans out to every member's document.
    await record('organisation-o1', 'EnforcementModeChanged', { from: 'off', to: 'hard', reason: 'test' });
    expect(Object.values((await cache.get('u1'))!.orgs).map((m) => m.mode)).toEqual(['hard']);
  });

  it('keeps at most its bound of documents, the least recently asked leaving first', async () => {
    const cache = new EnforcementDocCache(announcing, announcing, 2);
    for (const id of ['a', 'b', 'c']) await register(id);
    await cache.get('a');
    await cache.get('b');
    await cache.get('a');
    await cache.get('c');
    expect(cache.size).toBe(2);
    reads.lookups = [];
    await cache.get('a');
    await cache.get('c');
    expect(reads.lookups).toEqual([]);
    await cache.get('b');
    expect(reads.lookups).toEqual(['b']);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing in a process that does not see the projection\'s writes', async () => {
    const cache = new EnforcementDocCache(reads, null, 100);
    await register('u1');
    await cache.get('u1');
    await cache.get('u1');
    expect(cache.size).toBe(0);
    expect(reads.lookups).toEqual(['u1', 'u1']);
  });

  it('does not keep a document whose read overlapped a change, nor anything across a rebuild\'s swap', async () => {
    const cache = new EnforcementDocCache(announcing, announcing, 10);
    await register('u1');
    let release!: () => void;
    reads.hold = new Promise((resolve) => (release = resolve));
    const reading = cache.get('u1');
    await announcing.write([{ kind: 'patch', collection: ENFORCEMENT, id: 'u1', set: { twoFactorEnabled: true } }]);
    reads.hold = null;
    release();
    expect((await reading)?.twoFactorEnabled).toBe(false);
    expect(cache.size).toBe(0);
    expect((await cache.get('u1'))?.twoFactorEnabled).toBe(true);
    expect(cache.size).toBe(1);
    await announcing.swapCollections([[`${ENFORCEMENT}_next`, ENFORCEMENT]]);
    expect(cache.size).toBe(0);
  });

  it('announces the ids a write touched with the position it reflects, or all of a collection for a write by filter', async () => {
    const heard: Array<[ChangedDocs, string | null]> = [];
    const stop = announcing.onChange(ENFORCEMENT, (changed, position) => heard.push([changed, position]));
    await announcing.write([
      { kind: 'upsert', collection: ENFORCEMENT, doc: { id: 'x', twoFactorEnabled: false, forgotten: false, orgs: {} } },
      { kind: 'patch', collection: ENFORCEMENT, id: 'y', set: { forgotten: true } },
      { kind: 'upsert', collection: 'other', doc: { id: 'z' } },
    ], { name: 'announce-test', position: '7' });
    await announcing.write([{ kind: 'patchMany', collection: ENFORCEMENT, filter: { forgotten: true }, set: { forgotten: false } }]);
    stop();
    await announcing.write([{ kind: 'delete', collection: ENFORCEMENT, id: 'x' }]);
    expect(heard).toEqual([[['x', 'y'], '7'], ['all', null]]);
  });
});
