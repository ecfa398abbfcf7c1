import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isDomainError } from '../../src/kernel/domain-error.js';
import { openSqlite } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { guardStorage, isStorageFailure, SqliteStorageHealth } from '../../src/infrastructure/sqlite/sqlite.storage-failure.js';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite.event-store.js';
import { SqliteIdempotencyStore } from '../../src/infrastructure/idempotency/sqlite.idempotency-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import type { NewEvent } from '../../src/kernel/event-envelope.js';

/**
 * The mapping of storage failures, on a file SQLite itself refuses to write: a connection opened
 * read-only answers SQLITE_READONLY, as a file on a read-only mount does. (A full disk, SQLITE_FULL,
 * is exercised for real by test/faults/disk-full.spec.ts.)
 */
describe('SQLite storage failures', () => {
  const temp = makeTempDir('tfe-storage-');
  const file = join(temp.path, 'two-factor.sqlite');
  let writable: ReturnType<typeof openSqlite>;
  let readOnly: Database.Database;

  beforeAll(() => {
    writable = openSqlite(file);
    new SqliteEventStore(writable);
    new SqliteIdempotencyStore(writable);
    new SqliteStorageHealth(writable);
    readOnly = new Database(file, { readonly: true, fileMustExist: true });
  });
  afterAll(() => {
    readOnly.close();
    writable.close();
    temp.remove();
  });

  const event = (id: string): NewEvent => ({ type: 'Probe', data: {}, metadata: { eventId: id, occurredAt: new Date(0).toISOString(), actor: { id: 'test', roles: [] }, correlationId: id, causationId: id, schemaVersion: 1 } }) as unknown as NewEvent;

  it('answers 503 storage_unavailable instead of the driver error, and reports the store not ready', async () => {
    const health = new SqliteStorageHealth(readOnly);
    const events = guardStorage(new SqliteEventStore(readOnly), health);
    const idempotency = guardStorage(new SqliteIdempotencyStore(readOnly), health);
    expect(await events.ping()).toBe(true);

    const refused = await events.append('stream-a', [event('00000000-0000-4000-8000-000000000001')], 'no_stream').catch((error: unknown) => error);
    expect(isDomainError(refused) && { kind: refused.kind, code: refused.code, retry: refused.details['retryAfterSeconds'] }).toEqual({ kind: 'unavailable', code: 'storage_unavailable', retry: 5 });
    const now = new Date();
    const claim = await idempotency.claim({ key: 'k', fingerprint: 'f', token: 't', now, leaseUntil: now, expiresAt: now }).catch((error: unknown) => error);
    expect(isDomainError(claim) && claim.code).toBe('storage_unavailable');
    expect(await events.ping()).toBe(false);
    expect(await events.readAll()).toEqual([]);
  });

  it('passes other errors through untouched', async () => {
    const health = new SqliteStorageHealth(writable);
    const events = guardStorage(new SqliteEventStore(writable), health);
    await events.append('stream-b', [event('00000000-0000-4000-8000-000000000002')], 'no_stream');
    const conflict = await events.append('stream-b', [event('00000000-0000-4000-8000-000000000003')], 'no_stream').catch((error: unknown) => error);
    expect((conflict as Error).name).toBe('WrongExpectedRevisionError');
    expect(await events.ping()).toBe(true);
  });

  it('recognises SQLite\'s storage result codes, extended ones included, and nothing else', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_CANTOPEN']) expect(isStorageFailure({ code })).toBe(true);
    for (const code of ['SQLITE_BUSY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_FULLX', undefined]) expect(isStorageFailure({ code })).toBe(false);
  });
});
